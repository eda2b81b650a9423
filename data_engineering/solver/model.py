"""The LASCOPF model in injection (PTDF) form, shared by the centralized and decomposed solvers.

Decision variables per interval are device outputs: generators, plus — when load shedding is on —
one shedding device per loaded bus (linear cost VOLL, bounds [0, load], no ramp limit). Every
network constraint is a row over device outputs of one interval: the power balance, and for a
(scenario, branch) pair the flow `ptdf_s[l] · (C p − d_t)` within ± its rating. Scenario 0 is the
base case (normal ratings); scenario s ≥ 1 is the outage of `case.contingencies[s − 1]` (emergency
ratings).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data_engineering.solver.case import Case
from data_engineering.solver.network import Network, build_network
from data_engineering.solver.options import SolveOptions


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
    outages: np.ndarray  # (S,) branch index per scenario; -1 for the base case

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
    def demand(self) -> np.ndarray:
        return self.case.load_mw

    def rating(self, scenario: int) -> np.ndarray:
        br = self.case.branches
        return br.rate_mw if scenario == 0 else br.emergency_mw

    def scenario_ptdf(self, scenario: int) -> np.ndarray:
        outage = self.outages[scenario]
        return self.network.ptdf if outage < 0 else self.network.post_contingency_ptdf(int(outage))

    def flow_rows(self, t: int, scenario: int, branches: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row coefficients (rows × D) and bounds for the flow limits of `branches` in one scenario."""
        ptdf = self.scenario_ptdf(scenario)[branches]
        offset = ptdf @ self.demand[t]
        limit = self.rating(scenario)[branches]
        return ptdf[:, self.device_bus], offset - limit, offset + limit

    @property
    def ramp_limited(self) -> np.ndarray:
        """Devices with a ramp limit (shedding devices have none)."""
        return np.flatnonzero(np.isfinite(self.ramp_up) | np.isfinite(self.ramp_down))

    def ramp_chain(self, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows (rows × T) over device d's outputs: x_t − x_{t−1} within [−ramp_down, ramp_up], with
        x_{−1} = P0 (no first row where P0 is not given)."""
        steps = np.eye(self.intervals) - np.eye(self.intervals, k=-1)
        base = np.zeros(self.intervals)
        if np.isnan(self.p0[d]):
            steps, base = steps[1:], base[1:]
        else:
            base[0] = self.p0[d]
        return steps, base - self.ramp_down[d], base + self.ramp_up[d]

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
        return self.injection(x) @ self.network.ptdf.T

    def contingency_flows(self, base_flows: np.ndarray, scenarios: np.ndarray | None = None) -> np.ndarray:
        """Post-contingency flows (T, C, L) for the contingency `scenarios` (default: all, 1..S−1)."""
        out = self.outages[1:] if scenarios is None else self.outages[scenarios]
        return base_flows[:, None, :] + base_flows[:, out][:, :, None] * self.network.lodf[:, out].T[None]

    def overloads(self, x: np.ndarray, intervals: slice | np.ndarray = slice(None),
                  scenarios: np.ndarray | None = None) -> np.ndarray:
        """(T, S, L) amount (MW) by which each flow exceeds its limit (≤ 0 where within), for the given
        scenarios in their order (default: all); the outaged branch itself carries no flow."""
        scenarios = np.arange(self.n_scenarios) if scenarios is None else np.asarray(scenarios)
        base = self.injection(x, intervals) @ self.network.ptdf.T
        over = np.empty((base.shape[0], len(scenarios), self.case.branches.n))
        is_base = scenarios == 0
        over[:, is_base] = (np.abs(base) - self.case.branches.rate_mw)[:, None]
        if (~is_base).any():
            post = self.contingency_flows(base, scenarios[~is_base])
            over[:, ~is_base] = np.abs(post) - self.case.branches.emergency_mw
        return over


def build_model(case: Case, options: SolveOptions) -> Model:
    g = case.generators
    T = case.intervals
    lower, upper = np.tile(g.pmin_mw, (T, 1)), np.tile(g.pmax_mw, (T, 1))
    bus, c2, c1 = g.bus, g.c2, g.c1
    ramp_up, ramp_down, p0 = g.ramp_up_mw, g.ramp_down_mw, g.p0_mw
    if options.load_shedding:
        loaded = np.flatnonzero((case.load_mw > 0).any(axis=0))
        k = len(loaded)
        bus = np.r_[bus, loaded]
        c2, c1 = np.r_[c2, np.zeros(k)], np.r_[c1, np.full(k, options.voll_per_mwh)]
        lower = np.c_[lower, np.zeros((T, k))]
        upper = np.c_[upper, np.maximum(case.load_mw[:, loaded], 0.0)]
        ramp_up, ramp_down = np.r_[ramp_up, np.full(k, np.inf)], np.r_[ramp_down, np.full(k, np.inf)]
        p0 = np.r_[p0, np.full(k, np.nan)]
    outages = np.array([-1] + [c.branch for c in case.contingencies], dtype=int)
    return Model(case=case, network=build_network(case), device_bus=bus, c2=c2, c1=c1,
                 c0_total=float(g.c0.sum()), lower=lower, upper=upper, ramp_up=ramp_up, ramp_down=ramp_down,
                 p0=p0, n_gen=g.n, outages=outages)
