"""The ADMM / APP loop: copies of each interval's dispatch agree on one ramp-feasible trajectory.

Blocks (solved in parallel, `executor`): per interval, a cost-carrying copy (or per `interval_block`
consecutive intervals, with the ramps between them inside: only the ramps across blocks are left to
the consensus). In preventive mode that copy enforces the base case and every contingency of its
intervals itself (screened rows); in corrective mode it holds the base-case limits and each
(interval, contingency) the trajectory violates gets a copy of its own, which also holds that
contingency's own dispatch. (A copy per contingency in preventive mode, the former "scenario"
decomposition, did not converge at grid scale and was removed: README, "Why there is no scenario
decomposition".) The consensus
step projects the average copy onto the ramp limits (`RampProjection`), then the scaled multipliers
move by the disagreement. Warm start: every interval's own optimum. Contingencies get a copy only
once the trajectory violates them (screening, re-run every `screen_every` iterations). The answer
is the cost-carrying copies, accepted only when the residuals are within tolerance *and* the full
constraint check (`verify`) passes.

Where ramps bind, the interval copies already hold the ranges the ramps leave them
(`ramps.reachable`), the iteration is Anderson-accelerated (`anderson`) and ρ keeps adapting
(`ResidualBalancing`): with the ramps in the projection alone, ADMM drifted along binding ramps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from data_engineering.solver.admm.anderson import Anderson
from data_engineering.solver.admm.executor import Executor, Key, make_executor
from data_engineering.solver.admm.ramps import RampInfeasible, RampProjection
from data_engineering.solver.admm.subproblem import Report, SubproblemFailed, SubproblemInfeasible, SubproblemSpec
from data_engineering.solver.duals import Prices, sort_binding
from data_engineering.solver.model import Model
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.result import BindingConstraint, IterationRecord
from data_engineering.solver.security import Screening
from data_engineering.solver.verify import verify

log = logging.getLogger(__name__)

RHO_STEP = 2.0
RHO_RANGE = (1e-4, 1e6)


class ResidualBalancing:
    """The penalty rule, residual balancing in MW: every `interval` iterations ρ doubles when the
    copies' disagreement (primal residual) is more than `balance_ratio` times the consensus's last
    move (dual residual / ρ) and halves in the opposite case, where the copies agree but the
    consensus still travels — the drift along binding ramps, whose speed is ~ price gap / ρ.
    Once one residual is within its tolerance and the other is not, ρ moves towards the one left
    (up for the disagreement, down for the move) whatever their ratio: in MW the two can look
    balanced while only one of them keeps the iteration from stopping (on the 118-bus case with
    ramps ×0.2 the last ~100 of 334 iterations waited with the move 1000× below its tolerance).
    The rule never stops: a cap on the changes froze ρ and left that drift running for thousands of
    iterations above the dual tolerance. Instead, after every `changes_per_doubling` changes the
    interval doubles, so ρ changes ever more rarely and cannot cycle quickly."""

    def __init__(self, options: SolveOptions, every: int = 5, changes_per_doubling: int = 20) -> None:
        self.active, self.ratio = options.residual_balancing, options.balance_ratio
        self.every, self.changes_per_doubling = every, changes_per_doubling
        self.changes, self.next_check = 0, every
        self.primal_tol, self.dual_tol = options.primal_tol_mw, options.dual_tol

    @property
    def interval(self) -> int:
        return self.every * 2 ** (self.changes // self.changes_per_doubling)

    def update(self, k: int, primal: float, dual: float, rho: float) -> float:
        """ρ for the iterations after `k`, given its residuals."""
        if not self.active or k < self.next_check:
            return rho
        move = dual / rho
        if primal > self.primal_tol and dual <= self.dual_tol:
            new_rho = rho * RHO_STEP
        elif dual > self.dual_tol and primal <= self.primal_tol:
            new_rho = rho / RHO_STEP
        else:
            new_rho = rho * RHO_STEP if primal > self.ratio * move else (
                rho / RHO_STEP if move > self.ratio * primal else rho)
        new_rho = float(np.clip(new_rho, *RHO_RANGE))
        self.changes += new_rho != rho
        self.next_check = k + self.interval
        return new_rho


@dataclass
class AdmmOutcome:
    status: str
    message: str = ""
    x: np.ndarray | None = None  # (T, D) cost-carrying copies
    xs: np.ndarray | None = None  # (T, S, D) scenario dispatches in corrective mode (preventive: None)
    iterations: int = 0
    history: list[IterationRecord] = field(default_factory=list)
    prices: Prices | None = None
    binding: list[BindingConstraint] = field(default_factory=list)


def initial_rho(model: Model) -> float:
    """Cost per MW of the typical marginal unit over a third of the typical unit size: a step of
    ~a third of a unit per iteration when the copies disagree by that much. (A tenth started ρ ~100×
    above where residual balancing took it on the ramp-bound 118- and 300-bus cases, and the halvings
    down cost iterations: 334 → 179 and 372 → 216 with ramps ×0.2 and ×0.5.)"""
    marginal = np.median(model.c1[: model.n_gen] + 2 * model.c2[: model.n_gen] * model.upper[0, : model.n_gen] / 2)
    size = np.median(model.upper[0, : model.n_gen])
    return float(max(marginal, 1.0) / max(size / 3, 1.0))


class Consensus:
    """Copies, multipliers and the consensus trajectory; the arithmetic of one ADMM iteration. A copy
    keyed (t, s) is the (n, D) dispatch of the n intervals from t its subproblem holds. The copies are
    the rows of one (R, D) array, in the order they were added, and so are their scaled multipliers:
    an iteration's arithmetic is a few whole-array operations rather than one loop per copy."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.x = np.zeros((0, model.n_devices))  # the copies' rows
        self.u = np.zeros_like(self.x)  # their scaled multipliers
        self.rows: dict[Key, slice] = {}  # each copy's rows
        self.interval = np.zeros(0, dtype=int)  # each row's interval
        self.count = np.zeros(model.intervals)  # copies per interval
        self.projection = RampProjection(model)
        self.z = np.zeros((model.intervals, model.n_devices))
        self._dispatch = np.zeros(0, dtype=int)  # the cost-carrying copies' rows, in interval order

    def add(self, key: Key, x: np.ndarray) -> None:
        first = len(self.x)
        self.rows[key] = slice(first, first + len(x))
        self.x, self.u = np.vstack([self.x, x]), np.vstack([self.u, np.zeros_like(x)])
        self.interval = np.r_[self.interval, np.arange(key[0], key[0] + len(x))]
        self.count[key[0]: key[0] + len(x)] += 1
        self._dispatch = np.concatenate([np.arange(self.rows[k].start, self.rows[k].stop)
                                         for k in sorted(k for k in self.rows if k[1] == -1)])

    def has(self, key: Key) -> bool:
        return key in self.rows

    def set_copies(self, copies: dict[Key, np.ndarray]) -> None:
        for key, x in copies.items():
            self.x[self.rows[key]] = x

    def update_z(self) -> float:
        total = np.zeros_like(self.z)
        np.add.at(total, self.interval, self.x + self.u)  # in row order: the copies of an interval add up
        previous, self.z = self.z, self.projection.project(total, self.count)
        return float(np.abs(self.z - previous).max())

    def update_u(self) -> float:
        gap = self.x - self.z[self.interval]
        self.u += gap
        return float(np.abs(gap).max())

    def state(self) -> np.ndarray:
        """(z, u) as one vector: the point of the ADMM fixed-point iteration."""
        return np.concatenate([self.z.ravel(), self.u.ravel()])

    def set_state(self, w: np.ndarray) -> None:
        w = w.copy()  # the multipliers are updated in place; `w` may be held by the accelerator
        self.z = w[: self.z.size].reshape(self.z.shape)
        self.u = w[self.z.size:].reshape(self.u.shape)

    def scale_u(self, factor: float) -> None:
        self.u *= factor

    def targets(self) -> dict[Key, np.ndarray]:
        target = self.z[self.interval] - self.u
        return {key: target[rows] for key, rows in self.rows.items()}

    def dispatch(self) -> np.ndarray:
        """(T, D): the cost-carrying copies, whose blocks tile the horizon."""
        return self.x[self._dispatch]

    @property
    def scenario_copies(self) -> int:
        return sum(key[1] != -1 for key in self.rows)


def _per_scenario(model: Model) -> bool:
    """Contingencies get copies of their own in corrective mode only: there a contingency's dispatch
    lives in its copy (a small QP of two dispatches), where inside the interval copy it would grow one
    dense block per contingency. In preventive mode the interval copy enforces them all."""
    return model.corrective and model.n_scenarios > 1


def _specs(model: Model, block: int = 1) -> list[SubproblemSpec]:
    """The cost-carrying subproblems: blocks of `block` consecutive intervals (the last one shorter)."""
    if block < 1:
        raise ValueError(f"interval_block must be at least 1, not {block}")
    if block > 1 and model.corrective:
        raise ValueError("interval_block > 1 is not supported in corrective mode (its contingency copies "
                         "hold one interval each)")
    scenarios = (0,) if _per_scenario(model) else tuple(range(model.n_scenarios))
    T = model.intervals
    return [SubproblemSpec(t, scenarios, carries_cost=True, n=min(block, T - t)) for t in range(0, T, block)]


def _screen(model: Model, consensus: Consensus, executor: Executor, tol_mw: float) -> None:
    """Give a copy to every (interval, contingency) whose limits the consensus trajectory or the
    cost-carrying copies violate and that has none yet; it starts at the consensus, multiplier 0."""
    violated = np.zeros((model.intervals, model.n_scenarios - 1), dtype=bool)
    for x in (consensus.z, consensus.dispatch()):
        violated |= model.insecure(x, tol_mw)[:, 1:]
    new = [SubproblemSpec(int(t), (int(s) + 1,), carries_cost=False) for t, s in zip(*np.nonzero(violated), strict=True)
           if not consensus.has((int(t), int(s) + 1))]
    if new:
        executor.add(new)
        for spec in new:
            consensus.add(spec.key, consensus.z[[spec.t]].copy())


def solve_admm(model: Model, options: SolveOptions,
               progress: Callable[[IterationRecord], None] | None = None) -> AdmmOutcome:
    specs = _specs(model, options.interval_block)
    rho = options.rho or initial_rho(model)
    penalty = ResidualBalancing(options)
    executor = make_executor(model, Screening(options.feasibility_tol_mw, options.max_rows_per_round), options.workers,
                             options.dask_address, options.worker_stall_s)
    consensus = Consensus(model)
    anderson = Anderson()
    history: list[IterationRecord] = []
    per_scenario = _per_scenario(model)
    try:
        executor.add(specs)
        for key, x in executor.solve({s.key: None for s in specs}, rho).items():
            consensus.add(key, x)
        consensus.update_z()
        for k in range(1, options.max_iterations + 1):
            if per_scenario and (k == 1 or k % options.screen_every == 0):
                _screen(model, consensus, executor, options.feasibility_tol_mw)
            w = consensus.state()
            consensus.set_copies(executor.solve(consensus.targets(), rho))
            dual = rho * consensus.update_z()
            primal = consensus.update_u()
            x = consensus.dispatch()
            record = IterationRecord(k, primal, dual, rho, model.cost(x), consensus.scenario_copies)
            history.append(record)
            if progress:
                progress(record)
            if primal <= options.primal_tol_mw and dual <= options.dual_tol:
                reports = executor.reports()
                xs = _scenario_dispatch(model, x, reports)
                check = verify(model, x, xs)
                if check.max_violation_mw / model.case.base_mva <= options.verify_tol_pu:
                    prices, binding = _prices(model, reports)
                    return AdmmOutcome("optimal", f"converged in {k} iterations", x, xs, k, history, prices, binding)
            if _stalled(history, options):
                break
            consensus.set_state(anderson.step(w, consensus.state()))
            new_rho = penalty.update(k, primal, dual, rho)
            if new_rho != rho:
                anderson.reset()
                consensus.scale_u(rho / new_rho)
                rho = new_rho
        last = history[-1]
        return AdmmOutcome("not_converged", f"residuals {last.primal_residual_mw:.3g} MW / "
                           f"{last.dual_residual:.3g} $/MWh after {last.iteration} iterations",
                           consensus.dispatch(), iterations=last.iteration, history=history)
    except RampInfeasible as exc:
        return AdmmOutcome("infeasible", str(exc), iterations=len(history), history=history)
    except SubproblemFailed as exc:
        return AdmmOutcome("error", f"solver failure: subproblem (interval {exc.spec.t + 1}, scenarios "
                           f"{list(exc.spec.scenarios)}) ended {exc.status}", iterations=len(history), history=history)
    except SubproblemInfeasible as exc:
        t, s = exc.spec.t, exc.spec.scenarios
        what = "its contingencies" if len(s) > 1 else (
            "the base case" if s == (0,) else model.case.contingencies[s[0] - 1].label)
        return AdmmOutcome("infeasible", f"interval {t + 1} cannot be dispatched securely for {what}",
                           iterations=len(history), history=history)
    finally:
        executor.close()


STALL_WINDOW = 300


def _stalled(history: list[IterationRecord], options: SolveOptions) -> bool:
    """The copies stopped coming together far from agreement: the problem has no feasible point."""
    if len(history) < 2 * STALL_WINDOW:
        return False
    recent = min(h.primal_residual_mw for h in history[-STALL_WINDOW:])
    before = min(h.primal_residual_mw for h in history[-2 * STALL_WINDOW:-STALL_WINDOW])
    return recent > 100 * options.primal_tol_mw and recent > 0.99 * before


def _scenario_dispatch(model: Model, x: np.ndarray, reports: dict[Key, Report]) -> np.ndarray | None:
    """(T, S, D): the preventive response of `x`, with the subproblems' corrective dispatches; None
    in preventive mode (the response itself, never built whole)."""
    if not model.corrective:
        return None
    xs = model.response(x, np.arange(model.n_scenarios))
    for (t, _), report in reports.items():
        for s, own in report.scenario_dispatch.items():
            xs[t, s] = own
    return xs


def _prices(model: Model, reports: dict[Key, Report]) -> tuple[Prices, list[BindingConstraint]]:
    lmp = np.zeros((model.intervals, model.case.buses.n))
    binding: list[BindingConstraint] = []
    for (t, _), report in reports.items():
        lmp[t: t + len(report.price_share)] += report.price_share
        binding += report.binding
    return Prices.of(model, lmp), sort_binding(binding)
