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
from data_engineering.solver.qp import DiagonalQP, QPSolution
from data_engineering.solver.result import BindingConstraint
from data_engineering.solver.security import ScreenedLimits

log = logging.getLogger(__name__)


@dataclass
class ExtensiveSolution:
    status: str
    x: np.ndarray | None = None  # (T, D)
    xs: np.ndarray | None = None  # (T, S, D) scenario dispatches in corrective mode (preventive: the response of x)
    objective: float = float("nan")
    prices: Prices | None = None
    binding: list[BindingConstraint] = field(default_factory=list)
    rounds: int = 0
    flow_rows: int = 0

    @property
    def lmp(self) -> np.ndarray | None:
        return None if self.prices is None else self.prices.lmp


def ramp_rows(model: Model) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Every ramp-limited device's chain (`Model.ramp_chain`), placed on columns t·D + d: one sparse
    matrix built from triplets (a diagnosis builds many small forms)."""
    D = model.n_devices
    rows, cols, data, lower, upper, count = [], [], [], [], [], 0
    for d in model.ramp_limited:
        a, lo, hi = model.ramp_chain(int(d))
        r, c = np.nonzero(a)
        rows.append(r + count)
        cols.append(c * D + d)
        data.append(a[r, c])
        lower.append(lo)
        upper.append(hi)
        count += a.shape[0]
    if not count:
        return sp.csr_matrix((0, model.intervals * D)), np.zeros(0), np.zeros(0)
    a = sp.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(count, model.intervals * D))
    return a, np.concatenate(lower), np.concatenate(upper)


class ExtensiveForm:
    """The QP and its row bookkeeping; `solve()` runs the screening loop. The HiGHS model lives across
    rounds: each adds rows to it and HiGHS hot-starts the QP from the last solution and basis."""

    def __init__(self, model: Model, scenarios: np.ndarray | None = None, tol_mw: float = 1e-3,
                 max_rows: int | None = None) -> None:
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
        self.limits = ScreenedLimits(model, self.qp, np.arange(T), scenarios, lambda t: t * D + np.arange(D), tol_mw,
                                     max_rows)

    def add_all(self) -> int:
        """Every finite limit of the allowed scenarios: the full extensive form, no screening."""
        return self.limits.add_all()

    def screened(self, max_rounds: int = 50) -> tuple[str, QPSolution | None, int]:
        """The screening loop alone (`ScreenedLimits.settle`): its status, last QP answer and rounds
        (what a feasibility test needs)."""
        return self.limits.settle(self.qp.solve, max_rounds)

    def solve(self, max_rounds: int = 50) -> ExtensiveSolution:
        model, limits = self.model, self.limits
        status, sol, rounds = self.screened(max_rounds)
        if sol is None:
            return ExtensiveSolution(status, rounds=rounds, flow_rows=len(limits.present))
        if model.corrective:
            x, xs = limits.dispatch(sol.x)
            if len(limits.scenarios) < model.n_scenarios:
                xs = model.response(x, np.arange(model.n_scenarios))
        else:  # the preventive response of x: never built whole (T × S × D)
            x, xs = limits.dispatch(sol.x, np.zeros(0, dtype=int))[0], None
        objective = sol.objective + model.c0_total * model.intervals
        y = sol.row_dual
        lmp = demand_prices(model, [*self.balances, *limits.priced], y)
        binding = sort_binding(binding_constraints(model, limits.security, y, x, xs)) if len(
            limits.scenarios) == model.n_scenarios else []
        return ExtensiveSolution("optimal", x, xs, objective, Prices.of(model, lmp), binding, rounds,
                                 len(limits.present))


def solve_extensive(model: Model, scenarios: np.ndarray | None = None, tol_mw: float = 1e-3,
                    max_rounds: int = 50, screening: bool = True, max_rows: int | None = None) -> ExtensiveSolution:
    form = ExtensiveForm(model, scenarios, tol_mw, max_rows)
    if not screening:
        form.add_all()
    return form.solve(max_rounds)


def feasibility(model: Model, scenarios: np.ndarray, tol_mw: float, max_rows: int | None = None
                ) -> tuple[str, np.ndarray | None]:
    """Status and (T, D) dispatch of the scenarios' screened extensive form, without prices: the
    diagnosis asks this of many small problems."""
    form = ExtensiveForm(model, scenarios, tol_mw, max_rows)
    status, sol, _ = form.screened()
    return status, None if sol is None else form.limits.dispatch(sol.x)[0]


@dataclass(frozen=True)
class Diagnosis:
    infeasible: bool
    message: str
    culprits: list[int]  # scenario indices infeasible on their own
    failed: bool = False  # a QP failed numerically: neither feasibility nor infeasibility is known
    base_x: np.ndarray | None = None  # the dispatch without contingencies, when it exists
    intervals: list[int] = field(default_factory=list)  # intervals infeasible on their own (with every outage)


def _named(intervals: list[int], total: int) -> str:
    return f"interval{'s' if len(intervals) > 1 else ''} {', '.join(str(t + 1) for t in intervals)} of {total}"


def diagnose(model: Model, tol_mw: float = 1e-3, known_infeasible: bool = False,
             max_rows: int | None = None) -> Diagnosis:
    """Why a solve failed: no secure dispatch exists (the base case, the intervals or contingencies
    that are infeasible on their own, or only their combination), or one exists and the method missed
    it. Cheap relaxations first: each interval alone (no ramps), whose infeasibility proves the whole
    problem's and names the intervals at fault; within those, each outage the interval's unsecured
    optimum violates (only those can be infeasible alone: that optimum satisfies any other). Only
    when every interval can be secured alone are outages tried over the whole horizon (the ramps are
    at fault, or an outage through them). Only a QP that reports infeasibility counts as such; any
    other failure is a solver failure, said as one. `known_infeasible`: the centralized extensive form
    has just said so, and is not solved again (on a large case that is the slow part)."""
    T = model.intervals
    full = ExtensiveSolution("infeasible") if known_infeasible else solve_extensive(model, tol_mw=tol_mw,
                                                                                    max_rows=max_rows)
    if full.status == "optimal":
        return Diagnosis(False, "a secure dispatch exists (the centralized solve finds it)", [])
    if full.status != "infeasible":
        return Diagnosis(False, f"solver failure: the centralized reference ended {full.status}", [], failed=True)
    base = np.array([0])
    alone = [model.alone(t) for t in range(T)] if T > 1 else [model]
    unsecured = [feasibility(m, base, tol_mw, max_rows) for m in alone]
    failed = [t for t, (status, _) in enumerate(unsecured) if status != "optimal"]
    if failed:
        proven = all(unsecured[t][0] == "infeasible" for t in failed)
        return Diagnosis(proven, f"infeasible without contingencies in {_named(failed, T)} on its own "
                         f"({unsecured[failed[0]][0]}): load and generator limits conflict", [], failed=not proven,
                         intervals=failed)
    status, base_x = feasibility(model, base, tol_mw, max_rows) if T > 1 else unsecured[0]
    if status != "optimal":
        return Diagnosis(status == "infeasible", f"infeasible without contingencies ({status}): load, "
                         "generator limits and ramps conflict", [], failed=status != "infeasible")
    everything = np.arange(model.n_scenarios)
    stuck = [t for t, m in enumerate(alone) if feasibility(m, everything, tol_mw, max_rows)[0] == "infeasible"
             ] if T > 1 else []
    culprits: set[int] = set()
    for t in stuck:
        for s in _violated(alone[t], unsecured[t][1], tol_mw):
            if s not in culprits and feasibility(alone[t], np.array([0, s]), tol_mw, max_rows)[0] == "infeasible":
                culprits.add(int(s))
    if not stuck:
        culprits = {int(s) for s in _violated(model, base_x, tol_mw)
                    if feasibility(model, np.array([0, s]), tol_mw, max_rows)[0] == "infeasible"}
    where = f" ({_named(stuck, T)} cannot be secured on its own)" if stuck else (
        " (each interval can be secured on its own: the ramps between them cannot)" if T > 1 else "")
    if not culprits:
        return Diagnosis(True, "infeasible in combination: each contingency can be secured alone, not all together"
                         + where, [], base_x=base_x, intervals=stuck)
    mode = "corrective" if model.corrective else "preventive"
    return Diagnosis(True, f"infeasible under contingencies that no {mode} dispatch can survive{where}",
                     sorted(culprits), base_x=base_x, intervals=stuck)


def _violated(model: Model, x: np.ndarray, tol_mw: float) -> np.ndarray:
    """Contingencies whose limits the dispatch `x` breaks."""
    return np.flatnonzero(model.insecure(x, tol_mw)[:, 1:].any(axis=0)) + 1
