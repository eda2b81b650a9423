"""Prices and binding constraints from the duals of flow-limit rows (centralized or per subproblem).

A flow row bounds `ptdf_s[l] · (C x − d_t)`, so its bounds move with the demand d(n, t) by
`ptdf_s[l, n]`; with HiGHS's duals (∂objective/∂bound) the LMP is the balance dual plus
Σ_rows y_row · ptdf_s[l, n].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data_engineering.solver.model import Model
from data_engineering.solver.result import BindingConstraint

DUAL_TOL = 1e-6


@dataclass
class FlowRows:
    """A block of flow-limit rows in one QP: one interval, one scenario, some branches."""

    t: int
    scenario: int
    branches: np.ndarray
    rows: range


def congestion_prices(model: Model, blocks: list[FlowRows], y: np.ndarray) -> np.ndarray:
    """(T, N) congestion part of the LMPs."""
    prices = np.zeros((model.intervals, model.case.buses.n))
    for block in blocks:
        prices[block.t] += y[np.asarray(block.rows)] @ model.scenario_ptdf(block.scenario)[block.branches]
    return prices


def binding_constraints(model: Model, blocks: list[FlowRows], y: np.ndarray, x: np.ndarray) -> list[BindingConstraint]:
    """Flow limits with a non-zero dual, with the flow of the (T, D) dispatch `x`."""
    case = model.case
    base = model.flows(x)
    post = model.contingency_flows(base) if model.n_scenarios > 1 else None
    out = []
    for block in blocks:
        s = block.scenario
        for branch, row in zip(block.branches, block.rows, strict=True):
            if abs(y[row]) <= DUAL_TOL:
                continue
            flow = base[block.t, branch] if s == 0 else post[block.t, s - 1, branch]
            out.append(BindingConstraint(
                interval=block.t + 1, branch=case.branches.names[branch],
                contingency=None if s == 0 else case.contingencies[s - 1].label,
                flow_mw=float(flow), limit_mw=float(model.rating(s)[branch]), shadow_price=float(abs(y[row]))))
    return out


def sort_binding(binding: list[BindingConstraint]) -> list[BindingConstraint]:
    return sorted(binding, key=lambda b: (b.interval, b.contingency or "", b.branch))
