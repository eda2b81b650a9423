"""The LASCOPF model in injection (PTDF) form, shared by the centralized and decomposed solvers.

Decision variables per interval are device outputs: generators, plus — when load shedding is on —
one shedding device per loaded bus (linear cost VOLL, bounds [0, load], no ramp limit). Scenario 0
is the base case (normal ratings); scenario s ≥ 1 is `case.contingencies[s − 1]` (emergency
ratings): a branch outage, a unit outage, or — under `islanding="shed"` — a branch outage that cuts
buses off, whose load is then unserved and whose units are lost.

A scenario's dispatch `xs` is, in preventive mode, the base dispatch with the lost output (less any
cut-off load) picked up by the remaining units in proportion to Pmax (`response`), so its limits
are rows over the base dispatch; in corrective mode it is a dispatch of its own, within each unit's
corrective ramp of the base one (`CorrectiveBlock`). Every security limit is an *element* of a
(interval, scenario): branch l < L (flow within ± rating) or unit L + d (a preventive pickup within
the unit's bounds: the reserve it must hold).

Load spread (`SolveOptions.secure_spread` with the case's `load_band_mw`) is an affine, AGC-style
robust envelope: under band trajectory k the loads are `demand + deviation[k]` and the units meet
the difference in fixed shares `follow` (∝ Pmax − Pmin of the units that can move), running at
x + follow · ΣΔ_k. Everything is linear in the load, so a dispatch secure for the P50 trajectory and
each band trajectory is secure for every mix of them; the model holds that intersection: device
bounds and ramp rows tightened by the shifts, each security row the tightest of the trajectories'
rows (less the flow of their shifts), overloads the worst trajectory's. `trajectories` gives each
trajectory as a plain model (its loads, its device bounds) with its shift: what `verify` checks.
The balance stays the P50 one; with Σ follow = 1 it holds for every trajectory.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from data_engineering.solver.case import Case
from data_engineering.solver.contingencies import base_refusal, islanded_buses, refusal
from data_engineering.solver.network import Bridges, Network, build_network
from data_engineering.solver.options import SolveOptions

SCREEN_CELLS = 4_000_000  # ~32 MB per float array while screening overloads in scenario blocks


@dataclass(frozen=True)
class Rows:
    """Constraint rows `lower ≤ a · v ≤ upper`; `sens[:, n]` is ∂bound/∂demand(n) (for the prices)."""

    a: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    sens: np.ndarray


@dataclass(frozen=True)
class CorrectiveBlock:
    """One (interval, scenario)'s own dispatch: columns for the devices that may move (`movable`,
    within their corrective ramps of the base), the base output for those that may not (`fixed`:
    shedding devices, units without a ramp), nothing from lost ones; the load it serves."""

    movable: np.ndarray  # device indices
    fixed: np.ndarray
    lower: np.ndarray  # (len(movable),)
    upper: np.ndarray
    step_down: np.ndarray  # (len(movable),) MW
    step_up: np.ndarray
    served_mw: float
    served_sens: np.ndarray  # (N,) 1 on buses still supplied


@dataclass(frozen=True, eq=False)
class Model:
    case: Case
    network: Network
    device_bus: np.ndarray  # (D,) bus index
    c2: np.ndarray  # (D,)
    c1: np.ndarray
    c0_total: float  # constant cost per interval
    lower: np.ndarray  # (T, D)
    upper: np.ndarray  # (T, D)
    ramp_up: np.ndarray  # (D,) inf where unlimited
    ramp_down: np.ndarray
    p0: np.ndarray  # (D,), nan where no ramp applies
    n_gen: int
    demand: np.ndarray  # (T, N) load served in the base case (cut-off buses' load excluded)
    outages: np.ndarray  # (S,) branch index per scenario; -1 for the base case and unit outages
    lost: np.ndarray  # (S, D) bool: devices producing nothing in the scenario
    island: np.ndarray  # (S, N) bool: buses the scenario cuts off (beyond the base topology's)
    participation: np.ndarray  # (S, D) share of the scenario's lost output each unit picks up
    corrective: bool = False
    corrective_up: np.ndarray | None = None  # (D,) MW a scenario dispatch may move above the base
    corrective_down: np.ndarray | None = None
    deviation: np.ndarray | None = None  # (K, T, N) load band trajectories less `demand` (secure_spread)
    follow: np.ndarray | None = None  # (D,) each device's share of a load deviation
    trajectory_lower: np.ndarray | None = None  # (K + 1, T, D) device bounds under P50 and each band
    trajectory_upper: np.ndarray | None = None  # trajectory, before the tightening

    @property
    def intervals(self) -> int:
        return self.lower.shape[0]

    @property
    def n_devices(self) -> int:
        return len(self.c1)

    @property
    def n_scenarios(self) -> int:
        return len(self.outages)

    @property
    def n_elements(self) -> int:
        return self.case.branches.n + self.n_devices

    @property
    def unserved_base(self) -> np.ndarray:
        """(T, N) load of buses the base topology cuts off."""
        return self.case.load_mw - self.demand

    def unserved(self, s: int) -> np.ndarray:
        """(T, N) load the scenario leaves unserved (its cut-off buses')."""
        return self.demand * self.island[s]

    def rating(self, scenario: int) -> np.ndarray:
        br = self.case.branches
        return br.rate_mw if scenario == 0 else br.emergency_mw

    def scenario_ptdf(self, scenario: int, branches: np.ndarray | None = None) -> np.ndarray:
        """PTDF rows `branches` (default all) in the scenario: after its outage, cut-off buses at 0."""
        outage = self.outages[scenario]
        if outage < 0:
            branches = np.arange(self.case.branches.n) if branches is None else branches
            ptdf = self.network.ptdf_rows(branches)
        else:
            ptdf = self.network.post_contingency_ptdf(int(outage), branches)
        if self.island[scenario].any():
            ptdf = ptdf.copy()
            ptdf[:, self.island[scenario]] = 0.0
        return ptdf

    @property
    def shifts(self) -> np.ndarray:
        """(K + 1, T, D) output shift of the devices under each load trajectory, P50's (zero) first."""
        if self.deviation is None:
            return np.zeros((1, *self.lower.shape))
        total = np.concatenate([np.zeros((1, self.intervals)), self.deviation.sum(axis=2)])
        return total[..., None] * self.follow

    @cached_property
    def trajectories(self) -> tuple[tuple[Model, np.ndarray], ...]:
        """Each load trajectory as a model without the envelope (its demand, its device bounds) and
        the (T, D) shift of the devices under it, P50 first; without a band, this model alone."""
        if self.deviation is None:
            return ((self, self.shifts[0]),)
        demands = [self.demand, *(self.demand + self.deviation)]
        return tuple((replace(self, demand=demand, lower=lower, upper=upper, deviation=None, follow=None,
                              trajectory_lower=None, trajectory_upper=None), shift)
                     for demand, lower, upper, shift in zip(demands, self.trajectory_lower, self.trajectory_upper,
                                                            self.shifts, strict=True))

    def alone(self, t: int) -> Model:
        """Interval t on its own, without ramps (none from P0 either): a relaxation of this model, so
        its infeasibility proves this model's — the cheap first test of a diagnosis."""
        one = slice(t, t + 1)
        band = {} if self.deviation is None else {
            "deviation": self.deviation[:, one], "trajectory_lower": self.trajectory_lower[:, one],
            "trajectory_upper": self.trajectory_upper[:, one]}
        return replace(self, demand=self.demand[one], lower=self.lower[one], upper=self.upper[one],
                       p0=np.full_like(self.p0, np.nan), **band)

    def security_rows(self, t: int, s: int, elements: np.ndarray) -> Rows:
        """Rows of the security limits `elements` of (t, s): over the base dispatch (preventive, and
        the base case), or over the scenario's own dispatch (corrective). Under a load band each row
        holds for every trajectory: the tightest of their bounds, each less the flow (or pickup) of
        its shift — `a` does not depend on the loads — with the P50 sensitivities for the prices."""
        (p50, _), *band = self.trajectories
        rows = p50._security_rows_at(t, s, elements)
        lower, upper = rows.lower, rows.upper
        for model, shift in band:
            other = model._security_rows_at(t, s, elements)
            moved = rows.a @ shift[t]
            lower, upper = np.maximum(lower, other.lower - moved), np.minimum(upper, other.upper - moved)
        return Rows(rows.a, lower, upper, rows.sens)

    def _security_rows_at(self, t: int, s: int, elements: np.ndarray) -> Rows:
        """`security_rows` at this model's own demand and device bounds (one trajectory)."""
        L = self.case.branches.n
        branches, units = elements[elements < L], elements[elements >= L] - L
        part, lost, cut = self.participation[s], self.lost[s], self.island[s]
        unserved = float(self.demand[t] @ cut)
        ptdf = self.scenario_ptdf(s, branches)
        a = ptdf[:, self.device_bus]
        limit = self.rating(s)[branches]
        offset, sens = ptdf @ self.demand[t], ptdf.copy()
        if not (self.corrective and s > 0):
            # Built only where something is lost or cut off: a plain branch outage (most of them)
            # skips the (rows × D) and (rows × N) products, and no D × D identity is ever formed.
            pickup = a @ part  # flow per MW of imbalance picked up
            if lost.any():
                a[:, lost] = pickup[:, None]
            if cut.any():
                offset, sens = offset + pickup * unserved, sens + np.outer(pickup, cut)
            response = np.outer(part[units], lost)
            response[np.arange(len(units)), units] += ~lost[units]
            shift = part[units] * unserved
            a = np.vstack([a, response])
            lower = np.concatenate([offset - limit, self.lower[t, units] + shift])
            upper = np.concatenate([offset + limit, self.upper[t, units] + shift])
            return Rows(a, lower, upper, np.vstack([sens, np.outer(part[units], cut)]))
        return Rows(a, offset - limit, offset + limit, sens)

    def corrective_block(self, t: int, s: int) -> CorrectiveBlock:
        alive = ~self.lost[s]
        moves = alive & ((self.corrective_up > 0) | (self.corrective_down > 0)) & (self.upper[t] > self.lower[t])
        movable, fixed = np.flatnonzero(moves), np.flatnonzero(alive & ~moves)
        return CorrectiveBlock(
            movable=movable, fixed=fixed, lower=self.lower[t, movable], upper=self.upper[t, movable],
            step_down=self.corrective_down[movable], step_up=self.corrective_up[movable],
            served_mw=float(self.demand[t] @ ~self.island[s]), served_sens=(~self.island[s]).astype(float))

    @property
    def ramp_limited(self) -> np.ndarray:
        """Devices with a ramp limit (shedding devices have none)."""
        return np.flatnonzero(np.isfinite(self.ramp_up) | np.isfinite(self.ramp_down))

    def ramp_chain(self, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows (rows × T) over device d's outputs: x_t − x_{t−1} within [−ramp_down, ramp_up], with
        x_{−1} = P0 (no first row where P0 is not given). Under a load band, within them for every
        trajectory: the step plus the change of the device's shift (none before the horizon: P0 is
        measured)."""
        steps = np.eye(self.intervals) - np.eye(self.intervals, k=-1)
        base = np.zeros(self.intervals)
        moves = np.diff(self.shifts[:, :, d], axis=1, prepend=0.0)  # (K + 1, T)
        if np.isnan(self.p0[d]):
            steps, base, moves = steps[1:], base[1:], moves[:, 1:]
        else:
            base[0] = self.p0[d]
        return steps, base - self.ramp_down[d] - moves.min(axis=0), base + self.ramp_up[d] - moves.max(axis=0)

    def cost(self, x: np.ndarray) -> float:
        """Objective of a (T, D) dispatch, $ over the horizon (sum of hourly cost rates per interval)."""
        return float((self.c2 * x**2 + self.c1 * x).sum() + self.c0_total * self.intervals)

    def injection(self, x: np.ndarray, intervals: slice | np.ndarray = slice(None)) -> np.ndarray:
        """Net bus injections (T, N) of device outputs (T, D) for the given intervals."""
        injection = -self.demand[intervals].copy()
        np.add.at(injection.T, self.device_bus, np.atleast_2d(x).T)
        return injection

    def flows(self, x: np.ndarray) -> np.ndarray:
        """Base-case flows (T, L) of a (T, D) dispatch."""
        return self.network.branch_flows(self.injection(x))

    def response(self, x: np.ndarray, scenarios: np.ndarray, intervals: slice | np.ndarray = slice(None)
                 ) -> np.ndarray:
        """(T, S', D) preventive scenario dispatches of a (T, D) base dispatch: lost devices at 0, their
        output less the cut-off load picked up by the participation factors."""
        lost, part = self.lost[scenarios], self.participation[scenarios]
        xs = np.repeat(x[:, None, :], len(scenarios), axis=1)
        moved = np.flatnonzero(lost.any(axis=1) | part.any(axis=1))  # a branch outage moves nothing
        if len(moved):  # (the base case alone, as a subproblem screens it, skips both products)
            imbalance = x @ lost.T.astype(float) - self.demand[intervals] @ self.island[scenarios].T.astype(float)
            xs[:, moved] = x[:, None, :] * ~lost[moved] + imbalance[:, moved, None] * part[moved]
        return xs

    @cached_property
    def shift_only(self) -> np.ndarray:
        """(S,) bool: scenarios whose flows are the base flows shifted by their outage's LODF column
        alone (a branch outage that cuts nothing off and loses or moves no device): the bulk of N-1."""
        plain = (self.outages >= 0) & ~self.lost.any(axis=1) & ~self.island.any(axis=1) & \
            ~self.participation.any(axis=1)
        at = np.flatnonzero(plain)
        plain[at[self.network.is_bridge(self.outages[at])]] = False
        return plain

    @cached_property
    def device_incidence(self) -> sp.csr_matrix:
        """(D, N) sparse: 1 at each device's bus (a dense one is 400 MB on a 9241-bus case with shedding)."""
        return sp.csr_matrix((np.ones(self.n_devices), (np.arange(self.n_devices), self.device_bus)),
                             shape=(self.n_devices, self.case.buses.n))

    def scenario_flows(self, x: np.ndarray, xs: np.ndarray, intervals: slice | np.ndarray = slice(None),
                       scenarios: np.ndarray | None = None) -> np.ndarray:
        """(T, S', L) flows in `scenarios` (default all) given the base dispatch (T, D) and the scenario
        dispatches (T, S', D); cut-off buses inject nothing."""
        scenarios = np.arange(self.n_scenarios) if scenarios is None else np.asarray(scenarios)
        base = self.network.branch_flows(self.injection(x, intervals))
        return self.shifted_flows(base, scenarios, *self._moved(x, xs, intervals, scenarios))

    def _moved(self, x: np.ndarray, xs: np.ndarray, intervals: slice | np.ndarray, scenarios: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray | None]:
        """Positions of the scenarios whose bus injections differ from the base dispatch's (moved
        devices, cut-off load) and the changes (T, len(changed), N): `shifted_flows`'s arguments.
        None where nothing changed (the base case): the sparse product alone took longer than its flows."""
        changed = np.flatnonzero((xs != x[:, None, :]).any(axis=(0, 2)) | self.island[scenarios].any(axis=1))
        if not len(changed):
            return changed, None
        delta = xs[:, changed] - x[:, None, :]
        moved = (self.device_incidence.T @ delta.reshape(-1, self.n_devices).T).T.reshape(
            *delta.shape[:2], self.case.buses.n)
        moved += self.demand[intervals][:, None, :] * self.island[scenarios[changed]]
        return changed, moved

    def shifted_flows(self, base: np.ndarray, scenarios: np.ndarray, changed: np.ndarray | None = None,
                      moved: np.ndarray | None = None) -> np.ndarray:
        """(T, S', L): base flows (T, L) moved by the injection changes (T, len(changed), N) of the
        scenarios at positions `changed` (PTDF), then by each scenario's branch outage (LODF)."""
        flows = np.repeat(base[:, None, :], len(scenarios), axis=1)
        if changed is not None and len(changed):
            flows[:, changed] += self.network.branch_flows(moved)
        k = self.outages[scenarios]
        shifted = np.flatnonzero(k >= 0)
        shifted = shifted[~self.network.is_bridge(k[shifted])]
        if len(shifted):
            ks = k[shifted]
            # a contiguous run (the usual case) is updated in place instead of through a fancy-index copy
            run = slice(shifted[0], shifted[-1] + 1) if shifted[-1] - shifted[0] + 1 == len(shifted) else shifted
            flows[:, run] += flows[:, shifted, ks][..., None] * self.network.lodf_columns(ks).T[None]
        return flows

    def overloads(self, x: np.ndarray, intervals: slice | np.ndarray = slice(None),
                  scenarios: np.ndarray | None = None, xs: np.ndarray | None = None) -> np.ndarray:
        """(T, S', L + D) amount (MW) by which each security element exceeds its limit (≤ 0 within) for
        the given scenarios (default all): flows against their ratings, then the scenario dispatch
        against device bounds (lost devices excepted). `xs` defaults to the preventive response.
        Under a load band, the worst trajectory's: each at its loads, the dispatch shifted (the given
        `xs` is the P50 one; a band trajectory's is the preventive response of its dispatch)."""
        (p50, _), *band = self.trajectories
        over = p50._overloads(x, intervals, scenarios, xs)
        for model, shift in band:
            over = np.maximum(over, model._overloads(x + shift[intervals], intervals, scenarios))
        return over

    def _overloads(self, x: np.ndarray, intervals: slice | np.ndarray = slice(None),
                   scenarios: np.ndarray | None = None, xs: np.ndarray | None = None) -> np.ndarray:
        """`overloads` at this model's own demand and device bounds (one trajectory)."""
        scenarios = np.arange(self.n_scenarios) if scenarios is None else np.asarray(scenarios)
        xs = self.response(x, scenarios, intervals) if xs is None else xs
        flows = self.scenario_flows(x, xs, intervals, scenarios)
        rating = np.where((scenarios == 0)[:, None], self.case.branches.rate_mw, self.case.branches.emergency_mw)
        lower, upper = self.lower[intervals][:, None, :], self.upper[intervals][:, None, :]
        units = np.where(self.lost[scenarios][None], -np.inf, np.maximum(lower - xs, xs - upper))
        return np.concatenate([np.abs(flows) - rating[None], units], axis=2)

    def violations(self, x: np.ndarray, intervals: np.ndarray, scenarios: np.ndarray, xs: np.ndarray, tol_mw: float,
                   loading: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The elements `overloads` finds beyond `tol_mw`, as (interval position, scenario position,
        element) and their excess: what screening needs, without the dense (T, S', L + D) float array
        and its passes (on a grid-scale case most of the screening time). Last, per scenario: whether
        a limit is violated or a flow beyond `loading` × its rating that the outage moved by more than
        the rest of the rating (the base case's own overloads are the base case's rows: counted, every
        outage would look loaded until they are fixed). Under a load band, from `overloads` itself
        (every scenario counted as loaded)."""
        if self.deviation is not None:
            over = self.overloads(x, intervals, scenarios, xs)
            i, j, element = np.nonzero(over > tol_mw)
            return i, j, element, over[i, j, element], np.ones(len(scenarios), dtype=bool)
        base = self.network.branch_flows(self.injection(x, intervals))
        flows = self.shifted_flows(base, scenarios, *self._moved(x, xs, intervals, scenarios))  # scenario_flows
        rating = np.where((scenarios == 0)[:, None], self.case.branches.rate_mw, self.case.branches.emergency_mw)
        moved = np.abs(flows - base[:, None]) > (1 - loading) * rating
        flows = np.abs(flows, out=flows)
        near = ((flows > loading * rating) & moved).any(axis=(0, 2)) | (scenarios == 0)
        i, j, branch = np.nonzero(flows > rating + tol_mw)
        lower, upper = self.lower[intervals][:, None, :], self.upper[intervals][:, None, :]
        outside = ((xs < lower - tol_mw) | (xs > upper + tol_mw)) & ~self.lost[scenarios][None]
        ui, uj, unit = np.nonzero(outside)
        units = np.maximum(lower[ui, 0, unit] - xs[ui, uj, unit], xs[ui, uj, unit] - upper[ui, 0, unit])
        near[uj] = True
        return (np.concatenate([i, ui]), np.concatenate([j, uj]), np.concatenate([branch, unit + self.case.branches.n]),
                np.concatenate([flows[i, j, branch] - rating[j, branch], units]), near)

    def reach_excess(self, x: np.ndarray, xs: np.ndarray, scenarios: np.ndarray) -> np.ndarray:
        """(T, S', D) MW by which scenario dispatches move beyond the corrective ramps of the base
        dispatch (lost devices excepted)."""
        move = xs - x[:, None, :]
        reach = np.maximum(move - self.corrective_up, -move - self.corrective_down)
        return np.where(self.lost[scenarios][None], -np.inf, reach)

    def insecure(self, x: np.ndarray, tol_mw: float) -> np.ndarray:
        """(T, S) bool: the scenarios whose preventive response to `x` breaks a limit (or, in
        corrective mode, a corrective ramp): those that need rows, or a dispatch of their own."""
        bad = np.zeros((x.shape[0], self.n_scenarios), dtype=bool)
        for chunk in self.scenario_chunks(x.shape[0]):
            xs = self.response(x, chunk)
            bad[:, chunk] = (self.overloads(x, scenarios=chunk, xs=xs) > tol_mw).any(axis=2)
            if self.corrective:
                bad[:, chunk] |= (self.reach_excess(x, xs, chunk) > tol_mw).any(axis=2)
        return bad

    def scenario_chunks(self, intervals: int, count: int | None = None) -> list[np.ndarray]:
        """Blocks of positions in a list of `count` scenarios (default all) whose (T, S', L + D)
        screening arrays stay near SCREEN_CELLS cells."""
        count = self.n_scenarios if count is None else count
        size = max(1, SCREEN_CELLS // max(1, intervals * self.n_elements))
        return [np.arange(i, min(i + size, count)) for i in range(0, count, size)]


def _participation(upper: np.ndarray, n_gen: int, lost: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """Pickup shares: the remaining units in proportion to Pmax (documented, fixed per scenario so
    the preventive limits stay linear in the base dispatch); zero where nothing is lost."""
    if not (lost.any() or cut.any()):
        return np.zeros(len(upper))
    weight = np.where(~lost & (np.arange(len(upper)) < n_gen), np.maximum(upper, 0.0), 0.0)
    return weight / weight.sum() if weight.sum() > 0 else weight


def build_model(case: Case, options: SolveOptions) -> Model:
    network = build_network(case)
    if network.island.any() and options.islanding == "refuse":
        raise base_refusal(case, network.island)
    g = case.generators
    demand = case.load_mw * ~network.island
    loaded = np.flatnonzero((demand > 0).any(axis=0)) if options.load_shedding else np.zeros(0, dtype=int)
    k = len(loaded)
    bus = np.r_[g.bus, loaded]
    c2, c1 = np.r_[g.c2, np.zeros(k)], np.r_[g.c1, np.full(k, options.voll_per_mwh)]
    ramp_up, ramp_down = np.r_[g.ramp_up_mw, np.full(k, np.inf)], np.r_[g.ramp_down_mw, np.full(k, np.inf)]
    p0 = np.r_[g.p0_mw, np.full(k, np.nan)]
    dead = network.island[bus]  # units the base topology cuts off produce nothing
    lower, upper = _device_bounds(case, demand, loaded, dead)
    p0 = np.where(dead & ~np.isnan(p0), 0.0, p0)
    ramp_up, ramp_down = np.where(dead, np.inf, ramp_up), np.where(dead, np.inf, ramp_down)
    D, S = len(c1), len(case.contingencies) + 1
    outages = np.array([-1] + [c.branch for c in case.contingencies], dtype=int)
    island = np.zeros((S, case.buses.n), dtype=bool)
    lost = np.zeros((S, D), dtype=bool)
    bridges = Bridges(case)
    for s, c in enumerate(case.contingencies, start=1):
        island[s] = islanded_buses(case, c, bridges)
        lost[s] = island[s][bus]
        if c.is_generator:
            lost[s, c.generator] = True
    islanding = [c for s, c in enumerate(case.contingencies, start=1) if island[s].any()]
    if islanding and options.islanding == "refuse":
        raise refusal(case, islanding)
    participation = np.stack([_participation(upper[0], g.n, lost[s], island[s]) for s in range(S)])
    shedding = np.arange(D) >= g.n
    scale = options.corrective_minutes / case.interval_minutes
    model = Model(case=case, network=network, device_bus=bus, c2=c2, c1=c1,
                  c0_total=float(g.c0.sum()), lower=lower, upper=upper, ramp_up=ramp_up, ramp_down=ramp_down,
                  p0=p0, n_gen=g.n, demand=demand, outages=outages, lost=lost, island=island,
                  participation=participation, corrective=options.mode == "corrective",
                  corrective_up=np.where(shedding, 0.0, ramp_up * scale),
                  corrective_down=np.where(shedding, 0.0, ramp_down * scale))
    if options.secure_spread and case.load_band_mw is not None:
        return _with_spread(model, loaded, dead)
    return model


def _device_bounds(case: Case, demand: np.ndarray, loaded: np.ndarray, dead: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(T, D) device bounds serving `demand`: units within [Pmin, Pmax], shedding devices up to their
    bus's load, devices the base topology cuts off at 0."""
    g, T = case.generators, case.intervals
    lower = np.c_[np.tile(g.pmin_mw, (T, 1)), np.zeros((T, len(loaded)))]
    upper = np.c_[np.tile(g.pmax_mw, (T, 1)), np.maximum(demand[:, loaded], 0.0)]
    return np.where(dead, 0.0, lower), np.where(dead, 0.0, upper)


def _with_spread(model: Model, loaded: np.ndarray, dead: np.ndarray) -> Model:
    """The model secured for the case's load band as well: the deviations, the follow shares (units
    alive with a range and ramps, ∝ Pmax − Pmin; shedding devices none), and the device bounds
    tightened so that every trajectory's shifted dispatch stays within its own bounds. Ramps and
    security rows tighten through `Model.trajectories`."""
    if model.corrective:
        raise ValueError("secure_spread needs mode='preventive': corrective dispatches do not follow the load band")
    case, g = model.case, model.case.generators
    deviation = case.load_band_mw * ~model.network.island - model.demand
    moves = ~dead[: g.n] & (np.minimum(g.ramp_up_mw, g.ramp_down_mw) > 0)
    weight = np.r_[np.where(moves, np.maximum(g.pmax_mw - g.pmin_mw, 0.0), 0.0), np.zeros(len(loaded))]
    if weight.sum() <= 0:
        raise ValueError("secure_spread: no unit can follow the load (none has a range and ramps)")
    bounds = [(model.lower, model.upper), *(_device_bounds(case, d, loaded, dead) for d in model.demand + deviation)]
    lower, upper = (np.stack(b) for b in zip(*bounds, strict=True))
    spread = replace(model, deviation=deviation, follow=weight / weight.sum(), trajectory_lower=lower,
                     trajectory_upper=upper)
    shifts = spread.shifts
    return replace(spread, lower=(lower - shifts).max(axis=0), upper=(upper - shifts).min(axis=0))

