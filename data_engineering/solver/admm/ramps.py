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


def reachable(model: Model) -> tuple[np.ndarray, np.ndarray]:
    """(T, D) bounds each device keeps in every ramp-feasible trajectory: the device bounds propagated
    along its ramp chain forward (from P0) and back. On a chain one pass each way is exact. A device
    whose bounds cross keeps its own: the projection reports it infeasible with its name."""
    lower, upper = model.lower.copy(), model.upper.copy()
    for d in model.ramp_limited:
        steps, row_lower, row_upper = model.ramp_chain(int(d))
        lo, hi = lower[:, d].copy(), upper[:, d].copy()
        rows = [(int(np.argmax(row)), row_lower[r], row_upper[r]) for r, row in enumerate(steps)]
        for t, down, up in rows:  # forward: x_t − x_{t−1} ∈ [down, up], x_{−1} folded into the P0 row
            before = (lo[t - 1], hi[t - 1]) if t > 0 else (0.0, 0.0)
            lo[t], hi[t] = max(lo[t], before[0] + down), min(hi[t], before[1] + up)
        for t, down, up in reversed(rows):
            if t > 0:
                lo[t - 1], hi[t - 1] = max(lo[t - 1], lo[t] - up), min(hi[t - 1], hi[t] - down)
        if (lo <= hi + 1e-9).all():
            lower[:, d], upper[:, d] = lo, np.maximum(lo, hi)
    return lower, upper


class RampProjection:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.chains = {int(d): _chain(model, int(d)) for d in model.ramp_limited}
        # every chain as x_t − x_{t−1} ∈ [step_lower_t, step_upper_t], x_{−1} = 0 (P0 is in row 0's limits;
        # no row 0 without P0)
        self.devices = np.array(list(self.chains), dtype=int)
        T, k = model.intervals, len(self.devices)
        self.step_lower, self.step_upper = np.full((T, k), -np.inf), np.full((T, k), np.inf)
        for j, d in enumerate(self.devices):
            steps, lo, hi = model.ramp_chain(int(d))
            rows = np.argmax(steps, axis=1)
            self.step_lower[rows, j], self.step_upper[rows, j] = lo, hi

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
