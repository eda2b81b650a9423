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
    qp.add_rows(*model.ramp_chain(d))
    return qp


class RampProjection:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.chains = {int(d): _chain(model, int(d)) for d in model.ramp_limited}

    def project(self, total: np.ndarray, copies: np.ndarray) -> np.ndarray:
        """`total` (T, D): Σ over copies of x + u per interval; `copies` (T,): how many."""
        z = np.clip(total / copies[:, None], self.model.lower, self.model.upper)
        for d, qp in self.chains.items():
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
