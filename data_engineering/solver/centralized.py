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

from data_engineering.solver.duals import PricedRows, Prices, binding_constraints, demand_prices, sort_binding
from data_engineering.solver.model import Model
from data_engineering.solver.qp import DiagonalQP
from data_engineering.solver.result import BindingConstraint
from data_engineering.solver.security import ScreenedLimits

log = logging.getLogger(__name__)


@dataclass
class ExtensiveSolution:
    status: str
    x: np.ndarray | None = None  # (T, D)
    xs: np.ndarray | None = None  # (T, S, D) scenario dispatches
    objective: float = float("nan")
    prices: Prices | None = None
    binding: list[BindingConstraint] = field(default_factory=list)
    rounds: int = 0
    flow_rows: int = 0

    @property
    def lmp(self) -> np.ndarray | None:
        return None if self.prices is None else self.prices.lmp


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
        scenarios = np.arange(model.n_scenarios) if scenarios is None else np.asarray(scenarios)
        T, D = model.intervals, model.n_devices
        self.qp = DiagonalQP(cost=np.tile(model.c1, T), hessian=np.tile(2.0 * model.c2, T),
                             lower=model.lower.ravel(), upper=model.upper.ravel())
        balance = sp.kron(sp.eye(T), np.ones((1, D)), format="csr")
        total = model.demand.sum(axis=1)
        rows = self.qp.add_rows(balance, total, total)
        supplied = (~model.network.island).astype(float)[None]
        self.balances = [PricedRows(t, 0, np.zeros(0, dtype=int), rows[t:t + 1], supplied) for t in range(T)]
        self.qp.add_rows(*ramp_rows(model))
        self.limits = ScreenedLimits(model, self.qp, np.arange(T), scenarios, lambda t: t * D + np.arange(D), tol_mw)

    def add_all(self) -> int:
        """Every finite limit of the allowed scenarios: the full extensive form, no screening."""
        return self.limits.add_all()

    def solve(self, max_rounds: int = 50) -> ExtensiveSolution:
        model, limits = self.model, self.limits
        for rounds in range(1, max_rounds + 1):
            sol = self.qp.solve()
            if not sol.optimal:
                return ExtensiveSolution(sol.status, rounds=rounds, flow_rows=int(limits.present.sum()))
            added = limits.screen(sol.x)
            log.debug("screening round %d: objective %.4f, %d limits added", rounds, sol.objective, added)
            if added == 0:
                x, xs = limits.dispatch(sol.x)
                if len(limits.scenarios) < model.n_scenarios:
                    xs = model.response(x, np.arange(model.n_scenarios))
                objective = sol.objective + model.c0_total * model.intervals
                y = sol.row_dual
                lmp = demand_prices(model, [*self.balances, *limits.priced], y)
                binding = sort_binding(binding_constraints(model, limits.security, y, x, xs)) if len(
                    limits.scenarios) == model.n_scenarios else []
                return ExtensiveSolution("optimal", x, xs, objective, Prices.of(model, lmp), binding, rounds,
                                         int(limits.present.sum()))
        return ExtensiveSolution("not_converged", rounds=max_rounds, flow_rows=int(limits.present.sum()))


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
    failed: bool = False  # a QP failed numerically: neither feasibility nor infeasibility is known
    base_x: np.ndarray | None = None  # the dispatch without contingencies, when it exists


def diagnose(model: Model, tol_mw: float = 1e-3, known_infeasible: bool = False) -> Diagnosis:
    """Why a solve failed: no secure dispatch exists (the base case alone, the contingencies that are
    infeasible on their own, or only their combination), or one exists and the method missed it.
    Only outages the unsecured optimum violates can be infeasible alone (it satisfies any other), so
    this costs one solve per violated contingency. Only a QP that reports infeasibility counts as
    such; any other failure is a solver failure, said as one. `known_infeasible`: the centralized
    extensive form has just said so, and is not solved again (on a large case that is the slow part)."""
    full = ExtensiveSolution("infeasible") if known_infeasible else solve_extensive(model, tol_mw=tol_mw)
    if full.status == "optimal":
        return Diagnosis(False, "a secure dispatch exists (the centralized solve finds it)", [])
    if full.status != "infeasible":
        return Diagnosis(False, f"solver failure: the centralized reference ended {full.status}", [], failed=True)
    base = solve_extensive(model, np.array([0]), tol_mw)
    if base.status != "optimal":
        return Diagnosis(base.status == "infeasible", f"infeasible without contingencies ({base.status}): load, "
                         "generator limits and ramps conflict", [], failed=base.status != "infeasible")
    violated = np.flatnonzero(model.insecure(base.x, tol_mw)[:, 1:].any(axis=0)) + 1
    culprits = [int(s) for s in violated if solve_extensive(model, np.array([0, s]), tol_mw).status == "infeasible"]
    if not culprits:
        return Diagnosis(True, "infeasible in combination: each contingency can be secured alone, not all together",
                         [], base_x=base.x)
    mode = "corrective" if model.corrective else "preventive"
    return Diagnosis(True, f"infeasible under contingencies that no {mode} dispatch can survive", culprits,
                     base_x=base.x)
