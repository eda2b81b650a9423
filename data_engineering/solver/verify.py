"""The full constraint check every answer goes through, whichever algorithm produced it.

Independent of the solvers' own bookkeeping: it recomputes balance, device limits, ramps, base-case
flows and every contingency's flows and dispatch from the dispatch alone (the preventive response,
or the corrective dispatches the solver returned: their balance, bounds and corrective ramps).
Under a load band (`secure_spread`) it checks every trajectory — P50 and each band one, at its own
loads and device bounds, with the units shifted by their follow shares — against all of that, so a
wrong tightening of the model's bounds, ramps or rows shows here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from data_engineering.solver.model import Model
from data_engineering.solver.outage_screen import outage_blocks, worst_branch_outage_overloads


@dataclass(frozen=True)
class Verification:
    violation_mw: dict[str, float]  # worst violation per constraint family (0 when satisfied)
    worst: str  # where the worst one is, in words

    @property
    def max_violation_mw(self) -> float:
        return max(self.violation_mw.values())


def scenario_dispatch(model: Model, x: np.ndarray, xs: np.ndarray | None) -> np.ndarray | None:
    """(T, S, D): the corrective dispatches given; None in preventive mode, where the scenario
    dispatch is the preventive response of `x`, built a block of scenarios at a time where needed
    (as one array it is T × S × D: 11 GB on 9,241 buses, 12 intervals, all N-1, shedding)."""
    if xs is None or not model.corrective:
        return None
    return xs


def verify(model: Model, x: np.ndarray, xs: np.ndarray | None = None) -> Verification:
    """`x`: (T, D) device outputs; `xs`: (T, S, D) scenario dispatches (corrective mode)."""
    xs = scenario_dispatch(model, x, xs)
    worst_value, worst = 0.0, "none"
    violation: dict[str, float] = {}
    for k, (plain, shift) in enumerate(model.trajectories):
        x_k = x + shift
        xs_k = xs if k == 0 else scenario_dispatch(plain, x_k, None)
        label = "" if len(model.trajectories) == 1 else (" (P50 load)" if k == 0 else f" (load band trajectory {k})")
        for name, (values, where) in _families(plain, x_k, xs_k).items():
            v = float(np.max(values, initial=0.0))
            violation[name] = max(violation.get(name, 0.0), v)
            if v > worst_value:
                worst_value, worst = v, f"{name}: {where(np.unravel_index(np.argmax(values), values.shape))}{label}"
    return Verification(violation, worst)


def _families(model: Model, x: np.ndarray, xs: np.ndarray | None) -> dict[str, tuple[np.ndarray, Callable]]:
    """Per constraint family, the excess of each constraint (≤ 0 within) and where it is, in words."""
    case = model.case
    balance = np.abs(x.sum(axis=1) - model.demand.sum(axis=1))
    bounds = np.maximum(model.lower - x, x - model.upper)
    previous = np.vstack([np.where(np.isnan(model.p0), x[0], model.p0), x[:-1]])
    step = x - previous
    ramps = np.maximum(step - model.ramp_up, -step - model.ramp_down)
    flows, flow_branch, units, unit, post_balance = flow_excess(model, x, xs)
    if model.corrective:
        corrective = model.reach_excess(x, xs, np.arange(model.n_scenarios))[:, 1:]
    else:  # the preventive response is the scenario dispatch checked: nothing to compare
        corrective = np.zeros((len(x), model.n_scenarios - 1, 1))
    after = lambda i: f"after {case.contingencies[i[1]].label}, interval {i[0] + 1}"  # noqa: E731
    return {
        "balance": (balance, lambda i: f"interval {i[0] + 1}"),
        "device_limits": (bounds, lambda i: f"device {i[1]}, interval {i[0] + 1}"),
        "ramps": (ramps, lambda i: f"device {i[1]}, interval {i[0] + 1}"),
        "base_flows": (flows[:, 0], lambda i: f"branch {case.branches.names[flow_branch[i[0], 0]]}, "
                                               f"interval {i[0] + 1}"),
        "contingency_flows": (flows[:, 1:], lambda i: f"branch {case.branches.names[flow_branch[i[0], i[1] + 1]]} "
                                                      f"{after(i)}"),
        "contingency_limits": (units[:, 1:], lambda i: f"device {unit[i[0], i[1] + 1]} {after(i)}"),
        "contingency_balance": (post_balance[:, 1:], after),
        "corrective_ramps": (corrective, lambda i: f"device {i[2]} {after(i)}"),
    }


def flow_excess(model: Model, x: np.ndarray, xs: np.ndarray | None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per (interval, scenario) the worst flow excess and its branch, the worst device-limit excess
    of the scenario dispatch (a lost device's output counts as excess) and its device, and the
    scenario's balance error, screened a block of scenarios at a time: never a T × S × L, nor (with
    `xs` None: the preventive response) any T × S × D, array on a grid-scale case."""
    T, S, L = x.shape[0], model.n_scenarios, model.case.branches.n
    worst, branch = np.empty((T, S)), np.zeros((T, S), dtype=int)
    units, unit = np.empty((T, S)), np.zeros((T, S), dtype=int)
    balance = np.empty((T, S))
    served = model.demand @ (~model.island).T  # (T, S)
    shift_only = model.shift_only if xs is None else np.zeros(S, dtype=bool)
    rest = np.flatnonzero(~shift_only)
    for part in model.scenario_chunks(T, len(rest)):
        chunk = rest[part]
        xs_chunk = model.response(x, chunk) if xs is None else xs[:, chunk]
        over = model.overloads(x, scenarios=chunk, xs=xs_chunk)
        branch[:, chunk] = over[..., :L].argmax(axis=2)
        worst[:, chunk] = over[..., :L].max(axis=2, initial=-np.inf)
        devices = np.where(model.lost[chunk][None], np.abs(xs_chunk), over[..., L:])
        unit[:, chunk] = devices.argmax(axis=2)
        units[:, chunk] = devices.max(axis=2, initial=-np.inf)
        balance[:, chunk] = np.abs(xs_chunk.sum(axis=2) - served[:, chunk])
    at = np.flatnonzero(shift_only)
    if len(at):  # a branch outage that moves no device: its flows in one compiled pass, its dispatch x itself
        base, rating = model.flows(x), model.case.branches.emergency_mw
        for block in outage_blocks(at, L):
            outages = model.outages[block]
            store, rows = model.network.lodf_store(outages)
            worst[:, block], branch[:, block] = worst_branch_outage_overloads(base, store, outages, rating, rows)
        own = np.maximum(model.lower - x, x - model.upper)
        units[:, at], unit[:, at] = own.max(axis=1)[:, None], own.argmax(axis=1)[:, None]
        balance[:, at] = np.abs(x.sum(axis=1) - served[:, 0])[:, None]
    return worst, branch, units, unit, balance
