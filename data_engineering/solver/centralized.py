"""The centralized reference: the extensive form on HiGHS with iterative contingency screening.

All intervals and scenarios in one QP over device outputs (PTDF form). Flow limits start out of the
model; each round adds the base-case and post-contingency limits the last answer violates and
re-solves, until none is violated — the same optimum as the full extensive form, with a fraction of
its rows. LMPs come from the duals: λ(n, t) = y_balance(t) + Σ_rows y_row · ∂bound_row/∂d(n, t).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from data_engineering.solver.duals import FlowRows, binding_constraints, congestion_prices, sort_binding
from data_engineering.solver.model import Model
from data_engineering.solver.qp import DiagonalQP
from data_engineering.solver.result import BindingConstraint

log = logging.getLogger(__name__)


@dataclass
class ExtensiveSolution:
    status: str
    x: np.ndarray | None = None  # (T, D)
    objective: float = float("nan")
    lmp: np.ndarray | None = None  # (T, N)
    binding: list[BindingConstraint] = field(default_factory=list)
    rounds: int = 0
    flow_rows: int = 0


def ramp_rows(model: Model) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Every ramp-limited device's chain (`Model.ramp_chain`), placed on columns t·D + d."""
    D = model.n_devices
    blocks, lower, upper = [], [], []
    for d in model.ramp_limited:
        a, lo, hi = model.ramp_chain(int(d))
        a = sp.coo_matrix(a)
        blocks.append(sp.csr_matrix((a.data, (a.row, a.col * D + d)), shape=(a.shape[0], model.intervals * D)))
        lower.append(lo)
        upper.append(hi)
    if not blocks:
        return sp.csr_matrix((0, model.intervals * D)), np.zeros(0), np.zeros(0)
    return sp.vstack(blocks, format="csr"), np.concatenate(lower), np.concatenate(upper)


class ExtensiveForm:
    """The QP and its row bookkeeping; `solve()` runs the screening loop."""

    def __init__(self, model: Model, scenarios: np.ndarray | None = None, tol_mw: float = 1e-3) -> None:
        self.model = model
        self.scenarios = np.arange(model.n_scenarios) if scenarios is None else np.asarray(scenarios)
        self.tol_mw = tol_mw
        T, D = model.intervals, model.n_devices
        self.qp = DiagonalQP(cost=np.tile(model.c1, T), hessian=np.tile(2.0 * model.c2, T),
                             lower=model.lower.ravel(), upper=model.upper.ravel())
        balance = sp.kron(sp.eye(T), np.ones((1, D)), format="csr")
        total = model.demand.sum(axis=1)
        self.balance_rows = self.qp.add_rows(balance, total, total)
        self.qp.add_rows(*ramp_rows(model))
        self.blocks: list[FlowRows] = []
        self._present = np.zeros((T, model.n_scenarios, model.case.branches.n), dtype=bool)

    def add_violated(self, x: np.ndarray) -> int:
        return self.add(self.model.overloads(x) > self.tol_mw)

    def add_all(self) -> int:
        """Every finite flow limit of the allowed scenarios: the full extensive form, no screening."""
        model = self.model
        finite = np.stack([np.isfinite(model.rating(s)) for s in range(model.n_scenarios)])
        finite[np.arange(1, model.n_scenarios), model.outages[1:]] = False  # an outaged branch carries nothing
        return self.add(np.broadcast_to(finite, self._present.shape))

    def add(self, wanted: np.ndarray) -> int:
        """Add the (t, scenario, branch) limits in `wanted` not yet in the model."""
        allowed = np.zeros(self.model.n_scenarios, dtype=bool)
        allowed[self.scenarios] = True
        new = wanted & allowed[None, :, None] & ~self._present
        D = self.model.n_devices
        for t, s in zip(*np.nonzero(new.any(axis=2)), strict=True):
            branches = np.flatnonzero(new[t, s])
            a, lo, hi = self.model.flow_rows(int(t), int(s), branches)
            rows = self.qp.add_rows(a, lo, hi, columns=t * D + np.arange(D))
            self.blocks.append(FlowRows(int(t), int(s), branches, rows))
        self._present |= new
        return int(new.sum())

    def solve(self, max_rounds: int = 50) -> ExtensiveSolution:
        T, D = self.model.intervals, self.model.n_devices
        for rounds in range(1, max_rounds + 1):
            sol = self.qp.solve()
            if not sol.optimal:
                return ExtensiveSolution(sol.status, rounds=rounds, flow_rows=int(self._present.sum()))
            x = sol.x.reshape(T, D)
            added = self.add_violated(x)
            log.debug("screening round %d: objective %.4f, %d limits added", rounds, sol.objective, added)
            if added == 0:
                objective = sol.objective + self.model.c0_total * T
                y = sol.row_dual
                return ExtensiveSolution("optimal", x, objective, self._lmp(y), self._binding(x, y), rounds,
                                         int(self._present.sum()))
        return ExtensiveSolution("not_converged", rounds=max_rounds, flow_rows=int(self._present.sum()))

    def _lmp(self, y: np.ndarray) -> np.ndarray:
        balance = y[np.asarray(self.balance_rows)][:, None]
        return balance + congestion_prices(self.model, self.blocks, y)

    def _binding(self, x: np.ndarray, y: np.ndarray) -> list[BindingConstraint]:
        return sort_binding(binding_constraints(self.model, self.blocks, y, x))


def solve_extensive(model: Model, scenarios: np.ndarray | None = None, tol_mw: float = 1e-3,
                    max_rounds: int = 50, screening: bool = True) -> ExtensiveSolution:
    form = ExtensiveForm(model, scenarios, tol_mw)
    if not screening:
        form.add_all()
    return form.solve(max_rounds)


@dataclass(frozen=True)
class Diagnosis:
    infeasible: bool
    message: str
    culprits: list[int]  # scenario indices infeasible on their own


def diagnose(model: Model, tol_mw: float = 1e-3) -> Diagnosis:
    """Why a solve failed: no secure dispatch exists (the base case alone, the contingencies that are
    infeasible on their own, or only their combination), or one exists and the method missed it.
    Only outages the unsecured optimum violates can be infeasible alone (it satisfies any other), so
    this costs one solve per violated contingency."""
    if solve_extensive(model, tol_mw=tol_mw).status == "optimal":
        return Diagnosis(False, "a secure dispatch exists (the centralized solve finds it)", [])
    base = solve_extensive(model, np.array([0]), tol_mw)
    if base.status != "optimal":
        return Diagnosis(True, f"infeasible without contingencies ({base.status}): load, generator limits and "
                               "ramps conflict", [])
    violated = np.flatnonzero((model.overloads(base.x)[:, 1:] > tol_mw).any(axis=(0, 2))) + 1
    culprits = [int(s) for s in violated if solve_extensive(model, np.array([0, s]), tol_mw).status == "infeasible"]
    if not culprits:
        return Diagnosis(True, "infeasible in combination: each contingency can be secured alone, not all together",
                         [])
    return Diagnosis(True, "infeasible under contingencies that no preventive dispatch can survive", culprits)
