"""The look-ahead coordinator's step: the consensus dispatch, projected onto the ramp limits.

Given the copies (and scaled multipliers) of every interval, the consensus trajectory Z minimises
Σ_t Σ_copies ‖x + u − Z_t‖² over device bounds and ramps from P0. The problem separates by device:
one small chain QP (T variables) per ramp-limited device, a clip for the others.

What the ramps imply for one interval alone is exact and local, so it goes into the subproblems
(`reachable`): the range each device can reach from P0 and still leave within the later intervals'
bounds. With one interval that is the whole ramp constraint, and the subproblem is the problem.
"""

from __future__ import annotations

import numpy as np

from data_engineering.solver.model import Model
from data_engineering.solver.qp import DenseQP

RAMP_SLACK_MW = 1e-9  # a clipped trajectory within its ramps by this is its own projection


def _chain(model: Model, d: int) -> DenseQP:
    T = model.intervals
    qp = DenseQP(np.zeros(T), np.ones(T), model.lower[:, d], model.upper[:, d])
    qp.add_rows(*model.ramp_chain(d))
    return qp


def step_limits(model: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ramp-limited devices and every chain (`Model.ramp_chain`) as x_t − x_{t−1} ∈
    [lower_t, upper_t], (T, k) each, with x_{−1} = 0 (P0 is in row 0's limits; ±inf where a chain has
    no row: interval 0 without P0)."""
    devices = np.asarray(model.ramp_limited, dtype=int)
    lower, upper = np.full((model.intervals, len(devices)), -np.inf), np.full((model.intervals, len(devices)), np.inf)
    for j, d in enumerate(devices):
        steps, lo, hi = model.ramp_chain(int(d))
        rows = np.argmax(steps, axis=1)
        lower[rows, j], upper[rows, j] = lo, hi
    return devices, lower, upper


def reachable(model: Model) -> tuple[np.ndarray, np.ndarray]:
    """(T, D) bounds each device keeps in every ramp-feasible trajectory: the device bounds propagated
    along its ramp chain forward (from P0) and back. On a chain one pass each way is exact. A device
    whose bounds cross keeps its own: the projection reports it infeasible with its name."""
    lower, upper = model.lower.copy(), model.upper.copy()
    devices, step_lower, step_upper = step_limits(model)
    for j, d in enumerate(devices):
        lo, hi = lower[:, d].copy(), upper[:, d].copy()
        for t in range(model.intervals):  # forward: x_t − x_{t−1} ∈ [down, up], x_{−1} folded into the P0 row
            before = (lo[t - 1], hi[t - 1]) if t > 0 else (0.0, 0.0)
            lo[t], hi[t] = max(lo[t], before[0] + step_lower[t, j]), min(hi[t], before[1] + step_upper[t, j])
        for t in range(model.intervals - 1, 0, -1):
            lo[t - 1], hi[t - 1] = max(lo[t - 1], lo[t] - step_upper[t, j]), min(hi[t - 1], hi[t] - step_lower[t, j])
        if (lo <= hi + 1e-9).all():
            lower[:, d], upper[:, d] = lo, np.maximum(lo, hi)
    return lower, upper


class RampProjection:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.devices, self.step_lower, self.step_upper = step_limits(model)
        self.chains = {int(d): _chain(model, int(d)) for d in self.devices}

    def _within_ramps(self, z: np.ndarray) -> np.ndarray:
        """(k,) whether each ramp-limited device's trajectory in `z` keeps its ramps."""
        steps = np.diff(z[:, self.devices], axis=0, prepend=0.0)
        return ((steps >= self.step_lower - RAMP_SLACK_MW) & (steps <= self.step_upper + RAMP_SLACK_MW)).all(axis=0)

    def project(self, total: np.ndarray, copies: np.ndarray) -> np.ndarray:
        """`total` (T, D): Σ over copies of x + u per interval; `copies` (T,): how many. A device whose
        clipped average keeps its ramps has it as its projection (the ramps are not active); the
        others solve their chain QP."""
        z = np.clip(total / copies[:, None], self.model.lower, self.model.upper)
        if not len(self.devices):
            return z
        for d in self.devices[~self._within_ramps(z)]:
            d, qp = int(d), self.chains[int(d)]
            qp.set_hessian(copies.astype(float))
            qp.set_cost(-total[:, d])
            sol = qp.solve()
            if sol.status == "infeasible":
                raise RampInfeasible(f"device {d}: P0 cannot reach its limits within the ramps")
            if not sol.optimal:
                raise RampFailed(f"solver failure: the ramp projection of device {d} ended {sol.status}")
            z[:, d] = sol.x
        return z


class RampInfeasible(RuntimeError):
    pass


class RampFailed(RuntimeError):
    """The projection's QP failed numerically: nothing is known about feasibility."""
