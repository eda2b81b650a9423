"""One ADMM subproblem: a copy of one interval's dispatch that must satisfy some scenarios' limits.

An interval block owns the interval's cost; a scenario block (one contingency at one interval)
only keeps its copy feasible for its outage. Both minimise their part plus the proximal term
ρ/2 ‖x − v‖², v = consensus − scaled multiplier, subject to the balance, device bounds and the flow
limits of their scenarios. Limits are screened inside: solve, add the violated rows, re-solve —
so every copy a subproblem returns is exactly feasible for its own scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data_engineering.solver.duals import FlowRows, binding_constraints, congestion_prices
from data_engineering.solver.model import Model
from data_engineering.solver.qp import DenseQP
from data_engineering.solver.result import BindingConstraint


@dataclass(frozen=True)
class SubproblemSpec:
    t: int
    scenarios: tuple[int, ...]  # model scenario indices whose flow limits this copy enforces
    carries_cost: bool

    @property
    def key(self) -> tuple[int, int]:
        return (self.t, -1 if self.carries_cost else self.scenarios[0])


class SubproblemInfeasible(RuntimeError):
    def __init__(self, spec: SubproblemSpec, status: str) -> None:
        super().__init__(f"subproblem {spec.key} is {status}")
        self.spec, self.status = spec, status

    def __reduce__(self):  # noqa: ANN204 - crosses process boundaries
        return (SubproblemInfeasible, (self.spec, self.status))


class Subproblem:
    def __init__(self, model: Model, spec: SubproblemSpec, tol_mw: float) -> None:
        self.model, self.spec, self.tol_mw = model, spec, tol_mw
        t, d = spec.t, model.n_devices
        self._cost = model.c1 if spec.carries_cost else np.zeros(d)
        self._hessian = 2.0 * model.c2 if spec.carries_cost else np.zeros(d)
        self.qp = DenseQP(self._cost, self._hessian, model.lower[t], model.upper[t])
        total = model.demand[t].sum()
        self.qp.add_rows(np.ones((1, d)), [total], [total])
        self._scenarios = np.array(spec.scenarios)
        self._present = np.zeros((len(spec.scenarios), model.case.branches.n), dtype=bool)
        self.blocks: list[FlowRows] = []
        self._duals = np.zeros(1)

    def solve(self, target: np.ndarray | None, rho: float) -> np.ndarray:
        """Minimiser given the prox target (None: no proximal term, the warm start)."""
        if target is None:
            self.qp.set_hessian(self._hessian)
            self.qp.set_cost(self._cost)
        else:
            self.qp.set_hessian(self._hessian + rho)
            self.qp.set_cost(self._cost - rho * target)
        t = self.spec.t
        while True:
            sol = self.qp.solve()
            if not sol.optimal:
                raise SubproblemInfeasible(self.spec, sol.status)
            over = self.model.overloads(sol.x[None, :], np.array([t]), self._scenarios)[0]
            new = (over > self.tol_mw) & ~self._present
            if not new.any():
                self._duals = sol.row_dual
                return sol.x
            for i in np.flatnonzero(new.any(axis=1)):
                s, branches = int(self._scenarios[i]), np.flatnonzero(new[i])
                rows = self.qp.add_rows(*self.model.flow_rows(t, s, branches))
                self.blocks.append(FlowRows(t, s, branches, rows))
            self._present |= new

    def prices(self) -> tuple[np.ndarray, list[BindingConstraint]]:
        """This copy's share of the interval's LMPs (N,) and its binding limits, from the last solve.
        At convergence the proximal gradient is the consensus multiplier, so the duals of each
        copy's own rows are those of the full problem and the shares add up to the LMP."""
        y = self._duals
        share = y[0] + congestion_prices(self.model, self.blocks, y)[self.spec.t]
        return share, binding_constraints(self.model, self.blocks, y, self._last_dispatch())

    def _last_dispatch(self) -> np.ndarray:
        x = np.zeros((self.model.intervals, self.model.n_devices))
        x[self.spec.t] = self.qp.solution()
        return x


class Shard:
    """The subproblems one worker owns; it solves a batch per ADMM iteration."""

    def __init__(self, model: Model, tol_mw: float) -> None:
        self.model, self.tol_mw = model, tol_mw
        self.subproblems: dict[tuple[int, int], Subproblem] = {}

    def add(self, specs: list[SubproblemSpec]) -> int:
        for spec in specs:
            self.subproblems[spec.key] = Subproblem(self.model, spec, self.tol_mw)
        return len(self.subproblems)

    def solve(self, targets: dict[tuple[int, int], np.ndarray | None], rho: float) -> dict[tuple[int, int], np.ndarray]:
        return {key: self.subproblems[key].solve(v, rho) for key, v in targets.items()}

    def prices(self) -> dict[tuple[int, int], tuple[np.ndarray, list[BindingConstraint]]]:
        return {key: sub.prices() for key, sub in self.subproblems.items()}
