"""Convex QPs with a diagonal Hessian, kept alive so rows can be added (screening rounds) or the
Hessian and linear term changed (ADMM iterations) between solves without rebuilding the model:

minimise ½ xᵀ diag(h) x + cᵀx  subject to  lower ≤ x ≤ upper,  row_lower ≤ A x ≤ row_upper.

`DiagonalQP` (HiGHS, sparse) holds the large extensive form; `DenseQP` (DAQP, a dual active-set
solver for small dense QPs, warm-started from the last active set) holds ADMM subproblems, where it
is ~20× faster than HiGHS and immune to a HiGHS QP failure we hit on them (a box-bounded strictly
convex QP reported unbounded). Row duals follow HiGHS for both: the derivative of the optimal
objective with respect to the active bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import daqp
import highspy
import numpy as np
import scipy.sparse as sp

from data_engineering.solver.row_dual_qp import RowDualSolution, solve_row_dual

_INF = highspy.kHighsInf


@dataclass(frozen=True)
class QPSolution:
    status: str  # optimal | infeasible | <HiGHS model status>
    x: np.ndarray
    row_dual: np.ndarray
    objective: float

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"


def _finite(v: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(v, dtype=float), -_INF, _INF)


def _infinite(v: np.ndarray) -> np.ndarray:
    """HiGHS's ±kHighsInf as ±inf."""
    v = np.asarray(v, dtype=float)
    return np.where(v >= _INF, np.inf, np.where(v <= -_INF, -np.inf, v))


def _matrix(lp: highspy.HighsLp, shape: tuple[int, int]) -> sp.spmatrix:
    """The model's rows as scipy: HiGHS holds them row-wise until a solve makes them column-wise."""
    m = lp.a_matrix_
    kind = sp.csr_matrix if m.format_ == highspy.MatrixFormat.kRowwise else sp.csc_matrix
    return kind((m.value_, m.index_, m.start_), shape=shape)


class DiagonalQP:
    """`row_dual`: a strictly convex QP (h > 0 on every column) goes first to `solve_row_dual`, which
    works in the dual of the few binding rows (ADMM's grid-scale proximal subproblems: 0.07 s where
    HiGHS's active set gave up after 44 s and Clarabel took 80 s); HiGHS takes what it does not solve.
    Off for the extensive form, whose binding ramp rows run to thousands."""

    def __init__(self, cost: np.ndarray, hessian: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                 threads: int = 1, row_dual: bool = False) -> None:
        self.n = len(cost)
        self._row_dual = row_dual
        self._cost = _finite(cost)
        self._rows: tuple | None = None  # (shape, A, row and column bounds) for solve_row_dual
        self._held: RowDualSolution | None = None  # the last row-dual solve: the next one starts there
        self._h = highspy.Highs()
        self._h.setOptionValue("output_flag", False)
        self._h.setOptionValue("threads", threads)
        self._h.addCols(self.n, _finite(cost), _finite(lower), _finite(upper), 0,
                        np.array([], dtype=np.int32), np.array([], dtype=np.int32), np.array([]))
        self._hessian = np.asarray(hessian, dtype=float).copy()
        self._x: np.ndarray | None = None
        nz = np.flatnonzero(self._hessian)
        if len(nz):
            start = np.searchsorted(nz, np.arange(self.n)).astype(np.int32)
            self._h.passHessian(self.n, len(nz), highspy.HessianFormat.kTriangular, start,
                                nz.astype(np.int32), self._hessian[nz])

    @property
    def n_rows(self) -> int:
        return self._h.getNumRow()

    def set_hessian(self, diagonal: np.ndarray) -> None:
        diagonal = np.asarray(diagonal, dtype=float)
        if np.array_equal(diagonal, self._hessian):
            return
        self._hessian = diagonal.copy()
        nz = np.flatnonzero(diagonal)
        start = np.searchsorted(nz, np.arange(self.n)).astype(np.int32)
        self._h.passHessian(self.n, len(nz), highspy.HessianFormat.kTriangular, start, nz.astype(np.int32),
                            diagonal[nz])

    def set_cost(self, cost: np.ndarray) -> None:
        self._cost = _finite(cost)
        self._h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), self._cost)

    def solution(self) -> np.ndarray:
        """The last solve's columns (NaN before one)."""
        return self._x if self._x is not None else np.full(self.n, np.nan)

    def add_cols(self, lower: np.ndarray, upper: np.ndarray) -> range:
        """Columns without cost (a corrective dispatch); HiGHS extends the Hessian with zeros."""
        k, first = len(lower), self.n
        self._h.addCols(k, np.zeros(k), _finite(lower), _finite(upper), 0, np.array([], dtype=np.int32),
                        np.array([], dtype=np.int32), np.array([]))
        self._hessian = np.r_[self._hessian, np.zeros(k)]
        self._cost = np.r_[self._cost, np.zeros(k)]
        self.n += k
        return range(first, self.n)

    def add_rows(self, a: np.ndarray | sp.spmatrix, lower: np.ndarray, upper: np.ndarray,
                 columns: np.ndarray | None = None) -> range:
        """Rows `a` (dense or sparse) over `columns` (all columns when None); returns their indices."""
        a = sp.csr_matrix(np.atleast_2d(a) if not sp.issparse(a) else a)
        first = self.n_rows
        if a.shape[0] == 0:
            return range(first, first)
        a.eliminate_zeros()
        cols = np.arange(self.n) if columns is None else np.asarray(columns)
        self._h.addRows(a.shape[0], _finite(lower), _finite(upper), a.nnz, a.indptr[:-1].astype(np.int32),
                        cols[a.indices].astype(np.int32), a.data.astype(float))
        return range(first, first + a.shape[0])

    def _solve_clarabel(self) -> QPSolution:
        import clarabel

        lp = self._h.getLp()
        a = _matrix(lp, (lp.num_row_, self.n))
        rows = sp.vstack([a, sp.eye(self.n, format="csc")]).tocsr()
        lower = np.r_[lp.row_lower_, lp.col_lower_]
        upper = np.r_[lp.row_upper_, lp.col_upper_]
        eq = np.flatnonzero(lower == upper)
        up = np.flatnonzero((lower != upper) & (upper < _INF))
        lo = np.flatnonzero((lower != upper) & (lower > -_INF))
        constraints = sp.vstack([rows[eq], rows[up], -rows[lo]]).tocsc()
        b = np.r_[upper[eq], upper[up], -lower[lo]]
        cones = [clarabel.ZeroConeT(len(eq)), clarabel.NonnegativeConeT(len(up) + len(lo))]
        settings = clarabel.DefaultSettings()
        settings.verbose = False
        sol = clarabel.DefaultSolver(sp.diags(self._hessian, format="csc"), np.array(lp.col_cost_), constraints, b,
                                     cones, settings).solve()
        if str(sol.status) not in ("Solved", "AlmostSolved"):
            status = "infeasible" if "Infeasible" in str(sol.status) else f"clarabel {sol.status}"
            return QPSolution(status, np.full(self.n, np.nan), np.full(self.n_rows, np.nan), np.nan)
        z = np.asarray(sol.z)
        # HiGHS convention: y = ∂objective/∂(active bound) = −z for an upper bound, +z for a lower one.
        y = np.zeros(len(lower))
        y[eq] -= z[: len(eq)]
        y[up] -= z[len(eq): len(eq) + len(up)]
        y[lo] += z[len(eq) + len(up):]
        return QPSolution("optimal", np.asarray(sol.x), y[: lp.num_row_], float(sol.obj_val))

    def _solve_row_dual(self) -> QPSolution | None:
        shape = (self.n, self.n_rows)
        if self._rows is None or self._rows[0] != shape:  # rows were added: read them once
            lp = self._h.getLp()
            a = _matrix(lp, shape[::-1])
            bounds = [_infinite(b) for b in (lp.row_lower_, lp.row_upper_, lp.col_lower_, lp.col_upper_)]
            self._rows = (shape, a.tocsr(), *bounds)
        _, a, row_lower, row_upper, lower, upper = self._rows
        sol = solve_row_dual(self._hessian, self._cost, lower, upper, a, row_lower, row_upper, self._held)
        if sol is None:
            return None
        self._held, self._x = sol, sol.x
        return QPSolution("optimal", sol.x, sol.row_dual, sol.objective)

    def solve(self) -> QPSolution:
        if self._row_dual and np.all(self._hessian > 0) and (sol := self._solve_row_dual()) is not None:
            return sol
        # An active-set pass needs at most a few iterations per column and row; far beyond that it cycles.
        self._h.setOptionValue("qp_iteration_limit", 20 * (self.n + self.n_rows) + 10_000)
        self._h.run()
        status = self._h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal and self._hessian.any():
            # HiGHS's QP active-set solver can fail on degenerate QPs (we have seen it cycle without end
            # at the optimum, and report a box-bounded strictly convex QP unbounded). The same model
            # then goes to Clarabel, an interior-point solver, and HiGHS stays the solver for LPs.
            sol = self._solve_clarabel()
            self._x = sol.x if sol.optimal else self._x
            return sol
        if status == highspy.HighsModelStatus.kOptimal:
            sol = self._h.getSolution()
            self._x = np.array(sol.col_value)
            return QPSolution("optimal", self._x, np.array(sol.row_dual), self._h.getInfo().objective_function_value)
        name = "infeasible" if status == highspy.HighsModelStatus.kInfeasible else self._h.modelStatusToString(status)
        return QPSolution(name, np.full(self.n, np.nan), np.full(self.n_rows, np.nan), np.nan)


DAQP_OPTIMAL = (1, 2)
DAQP_INFEASIBLE = -1
EQUALITY = 5  # DAQP sense: active + immutable
ACTIVE, ACTIVE_LOWER = 1, 3  # DAQP sense of a warm-start working set: active (at its lower bound)
LARGE = 100  # columns from which a DenseQP is treated as large (see `solve`)


class DenseQP:
    """A small QP on DAQP. Singular Hessians (LP costs without a proximal term) are handled by
    DAQP's own proximal-point iterations (`eps_prox < 0`)."""

    def __init__(self, cost: np.ndarray, hessian: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        self.n = len(cost)
        self.cost = np.asarray(cost, dtype=float).copy()
        self._set_columns(np.asarray(hessian, dtype=float))
        self.bounds = (np.asarray(lower, dtype=float), np.asarray(upper, dtype=float))
        self.a = np.zeros((0, self.n))
        self.row_lower = np.zeros(0)
        self.row_upper = np.zeros(0)
        self._x: np.ndarray | None = None
        self._limits_cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._working: np.ndarray | None = None  # DAQP sense of the last solve's active set

    def _set_columns(self, hessian: np.ndarray) -> None:
        """DAQP takes the Hessian as a dense matrix: it is kept, and ADMM's thousands of re-solves
        write only its diagonal (a view, `hessian`) instead of building one with `np.diag` each time."""
        self._h = np.diag(hessian)
        self.hessian = self._h.reshape(-1)[:: self.n + 1]
        self._singular = bool((hessian <= 0).any())

    @property
    def n_rows(self) -> int:
        return len(self.row_lower)

    def set_hessian(self, diagonal: np.ndarray) -> None:
        self.hessian[:] = diagonal
        self._singular = bool((self.hessian <= 0).any())

    def set_cost(self, cost: np.ndarray) -> None:
        self.cost = np.asarray(cost, dtype=float)

    def add_cols(self, lower: np.ndarray, upper: np.ndarray) -> range:
        """Columns without cost or proximal term (a corrective dispatch)."""
        k, first = len(lower), self.n
        self.n += k
        self.cost = np.r_[self.cost, np.zeros(k)]
        self._set_columns(np.r_[self.hessian, np.zeros(k)])
        self.bounds = (np.r_[self.bounds[0], lower], np.r_[self.bounds[1], upper])
        self.a = np.hstack([self.a, np.zeros((self.n_rows, k))])
        self._limits_cache = None
        if self._x is not None:
            self._x = np.r_[self._x, np.clip(0.0, lower, upper)]
        return range(first, self.n)

    def add_rows(self, a: np.ndarray | sp.spmatrix, lower: np.ndarray, upper: np.ndarray,
                 columns: np.ndarray | None = None) -> range:
        """Rows `a` (dense or sparse) over `columns` (all columns when None); returns their indices."""
        first = self.n_rows
        a = a.toarray() if sp.issparse(a) else np.atleast_2d(a)
        if columns is not None:
            full = np.zeros((a.shape[0], self.n))
            full[:, np.asarray(columns)] = a
            a = full
        self.a = np.vstack([self.a, a])
        self.row_lower = np.concatenate([self.row_lower, lower])
        self.row_upper = np.concatenate([self.row_upper, upper])
        self._limits_cache = None
        return range(first, self.n_rows)

    def solution(self) -> np.ndarray:
        return self._x if self._x is not None else np.full(self.n, np.nan)

    def _limits(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """DAQP's lower, upper and sense arrays, built again only when columns or rows were added (ADMM
        re-solves the same QP thousands of times with another cost and Hessian)."""
        if self._limits_cache is None:
            lower = np.concatenate([self.bounds[0], self.row_lower]).clip(-1e30, 1e30)
            upper = np.concatenate([self.bounds[1], self.row_upper]).clip(-1e30, 1e30)
            self._limits_cache = (lower, upper, np.where(lower == upper, EQUALITY, 0).astype(np.int32))
        return self._limits_cache

    def solve(self) -> QPSolution:
        """DAQP, warm-started from the last solve's point; a large QP (a block of intervals, `LARGE`
        columns) from its working set, unless rows or columns were added since (on 228 columns ~25%
        faster; on one interval's ~20 columns ~30% slower). A large singular QP (a block without its
        proximal term: nearly an LP) goes to HiGHS, where DAQP's proximal-point iterations took ~0.4 s
        on 456 columns."""
        lower, upper, sense = self._limits()
        singular, large = self._singular, self.n > LARGE
        if singular and large:
            return self._solve_highs()
        kwargs = {"eps_prox": -1.0} if singular else {}
        if large and self._working is not None and len(self._working) == len(sense):
            sense = np.where(sense == EQUALITY, EQUALITY, self._working).astype(np.int32)
        elif self._x is not None:
            kwargs["primal_start"] = self._x
        x, objective, flag, info = daqp.solve(self._h, self.cost, self.a, upper, lower, sense, **kwargs)
        if flag not in DAQP_OPTIMAL:
            self._working = None
            status = "infeasible" if flag == DAQP_INFEASIBLE else f"daqp exit flag {flag}"
            return QPSolution(status, np.full(self.n, np.nan), np.full(self.n_rows, np.nan), np.nan)
        lam = np.asarray(info["lam"])
        if large:
            self._working = np.where(lam > 0, ACTIVE, np.where(lam < 0, ACTIVE_LOWER, 0)).astype(np.int32)
        self._x = np.asarray(x)
        return QPSolution("optimal", self._x, -lam[self.n:], float(objective))

    def _solve_highs(self) -> QPSolution:
        qp = DiagonalQP(self.cost, self.hessian, *self.bounds)
        qp.add_rows(self.a, self.row_lower, self.row_upper)
        sol = qp.solve()
        self._working = None  # the next DAQP solve starts from this point
        if sol.optimal:
            self._x = sol.x
        return sol
