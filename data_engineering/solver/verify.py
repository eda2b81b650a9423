"""The full constraint check every answer goes through, whichever algorithm produced it.

Independent of the solvers' own bookkeeping: it recomputes balance, device limits, ramps, base-case
flows and every contingency's flows from the dispatch alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data_engineering.solver.model import Model


@dataclass(frozen=True)
class Verification:
    violation_mw: dict[str, float]  # worst violation per constraint family (0 when satisfied)
    worst: str  # where the worst one is, in words

    @property
    def max_violation_mw(self) -> float:
        return max(self.violation_mw.values())


def verify(model: Model, x: np.ndarray) -> Verification:
    """`x`: (T, D) device outputs."""
    case = model.case
    balance = np.abs(x.sum(axis=1) - model.demand.sum(axis=1))
    bounds = np.maximum(model.lower - x, x - model.upper)
    previous = np.vstack([np.where(np.isnan(model.p0), x[0], model.p0), x[:-1]])
    step = x - previous
    ramps = np.maximum(step - model.ramp_up, -step - model.ramp_down)
    over = model.overloads(x)
    families = {
        "balance": (balance, lambda i: f"interval {i[0] + 1}"),
        "device_limits": (bounds, lambda i: f"device {i[1]}, interval {i[0] + 1}"),
        "ramps": (ramps, lambda i: f"device {i[1]}, interval {i[0] + 1}"),
        "base_flows": (over[:, 0], lambda i: f"branch {case.branches.names[i[1]]}, interval {i[0] + 1}"),
        "contingency_flows": (over[:, 1:], lambda i: (
            f"branch {case.branches.names[i[2]]} after {case.contingencies[i[1]].label}, interval {i[0] + 1}")),
    }
    worst_value, worst = 0.0, "none"
    violation = {}
    for name, (values, where) in families.items():
        v = float(np.max(values, initial=0.0))
        violation[name] = max(v, 0.0)
        if v > worst_value:
            worst_value, worst = v, f"{name}: {where(np.unravel_index(np.argmax(values), values.shape))}"
    return Verification(violation, worst)
