"""One ADMM subproblem: a copy of a block of consecutive intervals' dispatch that must satisfy some
scenarios' limits.

An interval block (one interval, or `SolveOptions.interval_block` consecutive ones) owns its
intervals' cost (in preventive mode it also enforces all of their contingencies); a scenario block
(one contingency at one interval, corrective mode only) keeps its copy and that contingency's own
dispatch feasible for its outage. Both minimise their part plus the proximal term ρ/2 ‖x − v‖²,
v = consensus − scaled multiplier, subject to the balances, the device bounds the ramps leave
reachable in each interval (`ramps.reachable`: from P0 exactly), the ramps between the block's own
intervals (exact, the centralized `ramp_rows`) and the security limits of their scenarios
(`ScreenedLimits`: in corrective mode a scenario's dispatch of its own, within corrective ramps of
the copy). Limits are screened inside: solve, add the violated rows, re-solve — so every copy a
subproblem returns is exactly feasible for its own scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from data_engineering.solver.admm.ramps import reachable
from data_engineering.solver.centralized import ramp_rows
from data_engineering.solver.duals import binding_constraints, demand_prices
from data_engineering.solver.model import Model
from data_engineering.solver.outage_screen import overloads_by_block
from data_engineering.solver.qp import DenseQP, DiagonalQP, QPSolution
from data_engineering.solver.result import BindingConstraint
from data_engineering.solver.security import WATCH_LOADING, ScreenedLimits, Screening

# Up to this many devices a subproblem is a dense QP on DAQP (~20x faster than HiGHS there); beyond,
# DAQP's dense factorisations over thousands of screened rows take minutes where HiGHS's sparse QP,
# hot-started, takes a second (2869_pegase, one interval, all N-1). A block of intervals stays on DAQP
# at D × its intervals columns: with the proximal term on every column HiGHS's active set is far slower
# (0.7 s against 0.03 s on 456 columns); without it (the warm start) `DenseQP` hands it to HiGHS.
DENSE_DEVICES = 400


@dataclass(frozen=True)
class SubproblemSpec:
    t: int  # the block's first interval
    scenarios: tuple[int, ...]  # model scenario indices whose security limits this copy enforces
    carries_cost: bool
    n: int = 1  # consecutive intervals of the block (scenario blocks: 1)

    @property
    def intervals(self) -> np.ndarray:
        return np.arange(self.t, self.t + self.n)

    @property
    def key(self) -> tuple[int, int]:
        return (self.t, -1 if self.carries_cost else self.scenarios[0])


@dataclass(frozen=True)
class Report:
    """What a subproblem contributes once the copies agree."""

    price_share: np.ndarray  # (n, N) its part of its intervals' LMPs
    binding: list[BindingConstraint]
    scenario_dispatch: dict[int, np.ndarray]  # scenario → (D,) its dispatch (corrective blocks)


class SubproblemInfeasible(RuntimeError):
    def __init__(self, spec: SubproblemSpec, status: str) -> None:
        super().__init__(f"subproblem {spec.key} is {status}")
        self.spec, self.status = spec, status

    def __reduce__(self):  # noqa: ANN204 - crosses process boundaries
        return (type(self), (self.spec, self.status))


class SubproblemFailed(SubproblemInfeasible):
    """The QP solver failed (numerically): nothing is known about feasibility."""


class FlowCheck:
    """The screen's test of a batch of copies, without the screen: their base-case flows in one
    network solve and, for the branch outages that only shift flows (`Model.shift_only`), their
    post-outage flows in the fused pass (`outage_screen`), every copy of the batch at once. A copy is
    screened only when it breaks a limit here; one that breaks none would have had nothing added by
    the screen either (rows are added only for violations beyond `tol_mw`). On the 118-bus case,
    T=24, all 177 N-1 outages, screening each copy by itself took ~0.9 of the solve's 1.0 s."""

    MARGIN_MW = 1e-6  # the batch's flows and the screen's own differ by rounding

    def __init__(self, model: Model) -> None:
        self.model = model

    def covers(self, scenarios: tuple[int, ...]) -> bool:
        """Whether this check stands for the screen of a copy enforcing `scenarios` (model indices):
        the base case and branch outages that only shift flows, without a load band."""
        model = self.model
        return model.deviation is None and not model.corrective and bool(
            all(s == 0 or model.shift_only[s] for s in scenarios))

    def secure(self, intervals: np.ndarray, x: np.ndarray, tol_mw: float,
               outages: np.ndarray | None = None) -> np.ndarray:
        """Per row of `x` (R, D), the copy of interval `intervals[r]`: whether it is within every
        limit the screen checks, the base case's and those after each branch of `outages`."""
        model, network, tol = self.model, self.model.network, tol_mw - self.MARGIN_MW
        outside = ((x < model.lower[intervals] - tol) | (x > model.upper[intervals] + tol)).any(axis=1)
        flows = network.branch_flows(model.injection(x, intervals))
        ok = ~outside & (np.abs(flows) <= model.case.branches.rate_mw + tol).all(axis=1)
        if outages is not None and len(outages) and ok.any():
            for _, (rows, *_) in overloads_by_block(network, flows, np.asarray(outages),
                                                    model.case.branches.emergency_mw, tol, WATCH_LOADING):
                ok[rows] = False
        return ok


def block_ramp_rows(model: Model, intervals: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """The centralized ramp rows (`ramp_rows`) between the consecutive `intervals`' own outputs, on
    columns (t − first)·D + d. The rows reaching outside the block (the step into its first interval)
    are left to the reachable bounds and the consensus."""
    a, lower, upper = ramp_rows(model)
    d = model.n_devices
    first, last = int(intervals[0]) * d, (int(intervals[-1]) + 1) * d
    inside = a[:, first:last]
    keep = np.flatnonzero((np.diff(inside.indptr) == np.diff(a.indptr)) & (np.diff(a.indptr) > 1))
    return inside[keep], lower[keep], upper[keep]


class Subproblem:
    def __init__(self, model: Model, spec: SubproblemSpec, screening: Screening,
                 bounds: tuple[np.ndarray, np.ndarray], flow_check: FlowCheck | None = None) -> None:
        """`bounds`: (T, D) device bounds of the subproblems, `reachable` ones. `flow_check`: the
        shortcut for the screen, used where it covers the copy's scenarios (None: always the screen)."""
        self.model, self.spec, self.tol_mw = model, spec, screening.tol_mw
        self.intervals = intervals = spec.intervals
        d = model.n_devices
        self.columns = spec.n * d
        self.flow_check = flow_check if flow_check is not None and flow_check.covers(spec.scenarios) else None
        scenarios = np.asarray(spec.scenarios)
        self.outages = model.outages[scenarios[scenarios > 0]]  # the branches whose outages it checks
        self._cost = np.tile(model.c1 if spec.carries_cost else np.zeros(d), spec.n)
        self._hessian = np.tile(2.0 * model.c2 if spec.carries_cost else np.zeros(d), spec.n)
        lower, upper = bounds[0][intervals].ravel(), bounds[1][intervals].ravel()
        self.qp = DenseQP(self._cost, self._hessian, lower, upper) if d <= DENSE_DEVICES else \
            DiagonalQP(self._cost, self._hessian, lower, upper, row_dual=True)
        total = model.demand[intervals].sum(axis=1)
        self.qp.add_rows(np.kron(np.eye(spec.n), np.ones((1, d))), total, total)  # rows 0..n−1
        if spec.n > 1:
            self.qp.add_rows(*block_ramp_rows(model, intervals))
        first = spec.t
        self.limits = ScreenedLimits(model, self.qp, intervals, np.array(spec.scenarios),
                                     lambda t: (t - first) * d + np.arange(d), screening.tol_mw, screening.max_rows)
        self._duals = np.zeros(spec.n)
        self._target: tuple[np.ndarray | None, float] = (None, 0.0)  # of the last proposal
        self._hessian_of: tuple[float | None, int] | None = None  # (ρ, columns) the QP's Hessian is set for

    @property
    def checks_flows(self) -> bool:
        """Whether the flow check (`FlowCheck`) stands for the screen on this copy."""
        return self.flow_check is not None and self.qp.n == self.columns

    def _secure(self, v: np.ndarray) -> bool:
        """The flow check of the QP solution `v`: True when the screen would add nothing."""
        return self.checks_flows and bool(self.flow_check.secure(self.intervals, v.reshape(self.spec.n, -1),
                                                                 self.tol_mw, self.outages).all())

    def propose(self, target: np.ndarray | None, rho: float) -> QPSolution:
        """The QP's minimiser given the prox target (n, D) (None: no proximal term, the warm start),
        before any screening: `settle` takes it from there."""
        self._target = (target, rho)
        return self._once()

    def _once(self) -> QPSolution:
        extra = self.qp.n - self.columns  # corrective blocks add columns while screening
        target, rho = self._target
        prox = None if target is None else rho
        if self._hessian_of != (prox, self.qp.n):  # ρ changes rarely: most solves change the cost alone
            hessian = self._hessian if target is None else self._hessian + rho
            self.qp.set_hessian(np.concatenate([hessian, np.zeros(extra)]) if extra else hessian)
            self._hessian_of = (prox, self.qp.n)
        cost = self._cost if target is None else self._cost - rho * target.ravel()
        self.qp.set_cost(np.concatenate([cost, np.zeros(extra)]) if extra else cost)
        return self.qp.solve()

    def settle(self, first: QPSolution, secure: bool) -> np.ndarray:
        """The copy (n, D) from the proposal `first`: itself when `secure` (the base-case check passed
        on it), else screened (add the violated rows, re-solve) until it holds every limit."""
        status, sol = (first.status, first) if secure else self.limits.settle(self._once, secure=self._secure,
                                                                             first=first)[:2]
        if sol is None:
            raise (SubproblemInfeasible if status == "infeasible" else SubproblemFailed)(self.spec, status)
        self._duals = sol.row_dual
        return sol.x[: self.columns].reshape(self.spec.n, -1)

    def report(self) -> Report:
        """This copy's share of its intervals' LMPs and its binding limits, from the last solve.
        At convergence the proximal gradient is the consensus multiplier, so the duals of each
        copy's own rows are those of the full problem and the shares add up to the LMP. (The ramp
        rows inside a block do not move with the demand: no price of their own.)"""
        model, intervals, y = self.model, self.spec.intervals, self._duals
        supplied = (~model.network.island).astype(float)
        share = y[: self.spec.n, None] * supplied + demand_prices(model, self.limits.priced, y)[intervals]
        v = self.qp.solution()
        x_t, xs_t = self.limits.dispatch(v)
        x = np.zeros((model.intervals, model.n_devices))
        x[intervals] = x_t
        xs = None  # preventive: the response of x, never built whole (T × S × D)
        if model.corrective:  # scenario blocks and corrective interval copies hold one interval
            xs = model.response(x, np.arange(model.n_scenarios))
            xs[intervals[0], self.limits.scenarios] = xs_t[0]
        binding = binding_constraints(model, self.limits.security, y, x, xs)
        t = self.spec.t
        own = {s: xs_t[0, j] for j, s in enumerate(self.limits.scenarios) if (t, int(s)) in self.limits.blocks}
        return Report(share, binding, own)


class Shard:
    """The subproblems one worker owns; it solves a batch per ADMM iteration."""

    def __init__(self, model: Model, screening: Screening) -> None:
        self.model, self.screening = model, screening
        self.bounds = reachable(model)
        self.subproblems: dict[tuple[int, int], Subproblem] = {}
        self._flow_check: FlowCheck | None = None

    @property
    def flow_check(self) -> FlowCheck:
        if self._flow_check is None:
            self._flow_check = FlowCheck(self.model)
        return self._flow_check

    def add(self, specs: list[SubproblemSpec]) -> int:
        for spec in specs:
            self.subproblems[spec.key] = Subproblem(self.model, spec, self.screening, self.bounds, self.flow_check)
        return len(self.subproblems)

    def solve(self, targets: dict[tuple[int, int], np.ndarray | None], rho: float) -> dict[tuple[int, int], np.ndarray]:
        """Every target's copy: all QPs first, then the flow check of the whole batch (`FlowCheck`),
        then the screen for the copies it does not clear."""
        subs = [self.subproblems[key] for key in targets]
        firsts = [sub.propose(v, rho) for sub, v in zip(subs, targets.values(), strict=True)]
        secure = self._secure(subs, firsts)
        return {key: sub.settle(sol, ok) for key, sub, sol, ok in zip(targets, subs, firsts, secure, strict=True)}

    def _secure(self, subs: list[Subproblem], firsts: list[QPSolution]) -> list[bool]:
        """Per subproblem, whether its optimal proposal passes the flow check (`FlowCheck`): one
        pass per set of outages checked (in the interval decomposition, one for the whole batch)."""
        secure = [False] * len(subs)
        groups: dict[bytes, list[int]] = {}
        for i, (sub, sol) in enumerate(zip(subs, firsts, strict=True)):
            if sub.checks_flows and sol.optimal:
                groups.setdefault(sub.outages.tobytes(), []).append(i)
        for checked in groups.values():
            x = np.concatenate([firsts[i].x for i in checked]).reshape(-1, self.model.n_devices)
            rows = self.flow_check.secure(np.concatenate([subs[i].intervals for i in checked]), x,
                                          self.screening.tol_mw, subs[checked[0]].outages)
            if len(rows) > len(checked):  # blocks of intervals: a copy is secure when all its rows are
                rows = np.logical_and.reduceat(rows, np.cumsum([0] + [subs[i].spec.n for i in checked[:-1]]))
            for i, ok in zip(checked, rows.tolist(), strict=True):
                secure[i] = ok
        return secure

    def reports(self) -> dict[tuple[int, int], Report]:
        return {key: sub.report() for key, sub in self.subproblems.items()}
