"""`DenseQP` for the ADMM loop, which re-solves the same QPs thousands of times with only the cost and
the Hessian changed: DAQP's bound and sense arrays are built once per shape (rows or columns added)
instead of at every solve."""

from __future__ import annotations

import daqp
import numpy as np

from data_engineering.solver.qp import DAQP_INFEASIBLE, DAQP_OPTIMAL, EQUALITY, DenseQP, QPSolution


class CachedDenseQP(DenseQP):
    _shape: tuple[int, int] | None = None

    def _bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        shape = (self.n, self.n_rows)
        if shape != self._shape:
            lower = np.r_[self.bounds[0], self.row_lower].clip(-1e30, 1e30)
            upper = np.r_[self.bounds[1], self.row_upper].clip(-1e30, 1e30)
            self._cached = (lower, upper, np.where(lower == upper, EQUALITY, 0).astype(np.int32))
            self._shape = shape
        return self._cached

    def solve(self) -> QPSolution:
        lower, upper, sense = self._bounds()
        kwargs = {"eps_prox": -1.0} if (self.hessian <= 0).any() else {}
        if self._x is not None:
            kwargs["primal_start"] = self._x
        x, objective, flag, info = daqp.solve(np.diag(self.hessian), self.cost, self.a, upper, lower, sense, **kwargs)
        if flag not in DAQP_OPTIMAL:
            status = "infeasible" if flag == DAQP_INFEASIBLE else f"daqp exit flag {flag}"
            return QPSolution(status, np.full(self.n, np.nan), np.full(self.n_rows, np.nan), np.nan)
        self._x = np.asarray(x)
        return QPSolution("optimal", self._x, -np.asarray(info["lam"])[self.n:], float(objective))
