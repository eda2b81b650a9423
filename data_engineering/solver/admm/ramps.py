"""The look-ahead coordinator's step: the consensus dispatch, projected onto the ramp limits.

Given the copies (and scaled multipliers) of every interval, the consensus trajectory Z minimises
Σ_t Σ_copies ‖x + u − Z_t‖² over device bounds and ramps from P0 — the coupling between
neighbouring intervals lives here and nowhere else. The problem separates by device: one small
chain QP (T variables) per ramp-limited device, a clip for the others.
"""

from __future__ import annotations

import numpy as np

from data_engineering.solver.model import Model
from data_engineering.solver.qp import DenseQP


def _chain(model: Model, d: int) -> DenseQP:
    T = model.intervals
    qp = DenseQP(np.zeros(T), np.ones(T), model.lower[:, d], model.upper[:, d])
    steps = np.eye(T) - np.eye(T, k=-1)  # row t: z_t − z_{t−1}; row 0: z_0
    base = np.zeros(T)
    if np.isnan(model.p0[d]):
        steps, base = steps[1:], base[1:]
    else:
        base[0] = model.p0[d]
    qp.add_rows(steps, base - model.ramp_down[d], base + model.ramp_up[d])
    return qp


class RampProjection:
    def __init__(self, model: Model) -> None:
        self.model = model
        limited = np.isfinite(model.ramp_up) | np.isfinite(model.ramp_down)
        self.chains = {int(d): _chain(model, int(d)) for d in np.flatnonzero(limited)}

    def project(self, total: np.ndarray, copies: np.ndarray) -> np.ndarray:
        """`total` (T, D): Σ over copies of x + u per interval; `copies` (T,): how many."""
        z = np.clip(total / copies[:, None], self.model.lower, self.model.upper)
        for d, qp in self.chains.items():
            qp.set_hessian(copies.astype(float))
            qp.set_cost(-total[:, d])
            sol = qp.solve()
            if not sol.optimal:
                raise RampInfeasible(f"device {d}: P0 cannot reach its limits within the ramps ({sol.status})")
            z[:, d] = sol.x
        return z


class RampInfeasible(RuntimeError):
    pass
