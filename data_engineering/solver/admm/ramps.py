"""The look-ahead coordinator's step: the consensus dispatch, projected onto the ramp limits.

Given the copies (and scaled multipliers) of every interval, the consensus trajectory Z minimises
Σ_t Σ_copies ‖x + u − Z_t‖² over device bounds and ramps from P0. The problem separates by device:
one small chain QP (T variables) per ramp-limited device, a clip for the others. The chains are
solved exactly by dynamic programming (`_chains`), all of one iteration in one compiled call (~1 µs a
chain): a dense QP (DAQP) per device cost ~33 µs a call, ~40 % of a ramp-bound solve.

What the ramps imply for one interval alone is exact and local, so it goes into the subproblems
(`reachable`): the range each device can reach from P0 and still leave within the later intervals'
bounds. With one interval that is the whole ramp constraint, and the subproblem is the problem.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from data_engineering.solver.model import Model

RAMP_SLACK_MW = 1e-9  # a clipped trajectory within its ramps by this is its own projection
REACH_TOL_MW = 1e-9  # bounds missed by this through the ramps are met (as `reachable` does)


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


@njit(cache=True)
def _chains(weight, total, lower, upper, step_lower, step_upper, z):  # noqa: ANN001, ANN202
    """Solve min Σ_t w_t z_t²/2 − total_t z_t over lower ≤ z ≤ upper and z_t − z_{t−1} ∈ [step_lower_t,
    step_upper_t] (z_{−1} = 0) for every column into `z`; return the first infeasible column, or −1.

    Forward over t, the derivative g of the cost-to-go F_t(z) (the least cost of z_0..z_t with z_t = z):
    convex piecewise quadratic F makes g piecewise linear and increasing (with jumps where a bound ended
    the previous minimiser y*). The window min over y ∈ [z − hi, z − lo] splits g at y*, shifts the
    part left of it by lo and the right part by hi and puts g = 0 between; then + w_t z − total_t and
    restriction to the bounds. Back: z_T = y*_T, z_{t−1} = y*_{t−1} clipped to the window of z_t.
    Pieces are (left end, right end, a, b) with g = a + b z: at most 2t + 1 at t, O(T²) per chain."""
    T, k = total.shape
    n = 2 * T + 3
    L, R, a, b = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    L2, R2, a2, b2 = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    best = np.empty(T)
    for j in range(k):
        m, y = 1, 0.0  # before interval 0: the point z_{−1} = 0
        L[0], R[0], a[0], b[0] = 0.0, 0.0, 0.0, 0.0
        for t in range(T):
            lo, hi = step_lower[t, j], step_upper[t, j]
            if lo > hi + REACH_TOL_MW:
                return j
            hi = max(hi, lo)
            m2 = 0  # the window: left of y* by lo, g = 0 on [y* + lo, y* + hi], right of y* by hi
            for i in range(m):
                if L[i] < y and lo > -np.inf:
                    L2[m2], R2[m2], a2[m2], b2[m2] = L[i] + lo, min(R[i], y) + lo, a[i] - b[i] * lo, b[i]
                    m2 += 1
            L2[m2], R2[m2], a2[m2], b2[m2] = y + lo, y + hi, 0.0, 0.0
            m2 += 1
            for i in range(m):
                if R[i] > y and hi < np.inf:
                    L2[m2], R2[m2], a2[m2], b2[m2] = max(L[i], y) + hi, R[i] + hi, a[i] - b[i] * hi, b[i]
                    m2 += 1
            first, last = max(L2[0], lower[t, j]), min(R2[m2 - 1], upper[t, j])  # the bounds
            if first > last + REACH_TOL_MW:
                return j
            if first >= last:  # one point (within the tolerance, the bound's)
                first = last = max(min(first, upper[t, j]), lower[t, j])
                i = 0
                while i < m2 - 1 and R2[i] < first:
                    i += 1
                m, L[0], R[0], a[0], b[0] = 1, first, first, a2[i], b2[i]
            else:
                m = 0
                for i in range(m2):
                    if R2[i] > first and L2[i] < last:
                        L[m], R[m], a[m], b[m] = max(L2[i], first), min(R2[i], last), a2[i], b2[i]
                        m += 1
            y = R[m - 1]  # the minimiser: where g (now + w z − total, b > 0) reaches 0
            for i in range(m):
                a[i] -= total[t, j]
                b[i] += weight[t]
            for i in range(m):
                if a[i] + b[i] * R[i] >= 0.0:
                    y = min(max(-a[i] / b[i], L[i]), R[i])  # L[i] after a jump across 0
                    break
            best[t] = y
        z[T - 1, j] = best[T - 1]
        for t in range(T - 1, 0, -1):
            lo, hi = step_lower[t, j], max(step_upper[t, j], step_lower[t, j])
            y = min(max(best[t - 1], z[t, j] - hi), z[t, j] - lo)
            z[t - 1, j] = min(max(y, lower[t - 1, j]), upper[t - 1, j])
    return -1


class RampProjection:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.devices, self.step_lower, self.step_upper = step_limits(model)

    def _within_ramps(self, z: np.ndarray) -> np.ndarray:
        """(k,) whether each ramp-limited device's trajectory in `z` keeps its ramps."""
        steps = np.diff(z[:, self.devices], axis=0, prepend=0.0)
        return ((steps >= self.step_lower - RAMP_SLACK_MW) & (steps <= self.step_upper + RAMP_SLACK_MW)).all(axis=0)

    def project(self, total: np.ndarray, copies: np.ndarray) -> np.ndarray:
        """`total` (T, D): Σ over copies of x + u per interval; `copies` (T,): how many. A device whose
        clipped average keeps its ramps has it as its projection (the ramps are not active); the
        others solve their chain QP (`_chains`, exact)."""
        z = np.clip(total / copies[:, None], self.model.lower, self.model.upper)
        if not len(self.devices):
            return z
        broken = np.flatnonzero(~self._within_ramps(z))
        if not len(broken):
            return z
        devices = self.devices[broken]
        chains = np.empty((self.model.intervals, len(devices)))
        failed = _chains(np.asarray(copies, dtype=float), total[:, devices], self.model.lower[:, devices],
                         self.model.upper[:, devices], self.step_lower[:, broken], self.step_upper[:, broken], chains)
        if failed >= 0:
            raise RampInfeasible(f"device {devices[failed]}: P0 cannot reach its limits within the ramps")
        z[:, devices] = chains
        return z


class RampInfeasible(RuntimeError):
    pass
