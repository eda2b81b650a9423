"""Prices and binding constraints from the duals (centralized or per subproblem).

Every row that moves with the demand records how (`sens`, ∂bound/∂d(n, t)); with HiGHS's duals
(∂objective/∂bound) the LMP is Σ_rows y_row · sens_row: the balance rows give the same price at
every supplied bus, the security limits give the rest. Lossless DC has no loss component, so the LMP
splits into an energy component — the price at the reference bus, where no shift factor acts — and a
congestion component, the LMP less it, made of the binding limits' shadow prices × their shift
factors (zero everywhere when no limit binds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data_engineering.solver.model import Model
from data_engineering.solver.result import BindingConstraint

DUAL_TOL = 1e-6


@dataclass
class PricedRows:
    """A block of rows in one QP that moves with one interval's demand: security limits of one
    scenario (`elements`, see `Model.overloads`), or a balance (no elements)."""

    t: int
    scenario: int
    elements: np.ndarray
    rows: range
    sens: np.ndarray  # (rows, N)


@dataclass(frozen=True)
class Prices:
    lmp: np.ndarray  # (T, N) $/MWh
    energy: np.ndarray  # (T,) $/MWh, the reference bus's price
    congestion: np.ndarray  # (T, N) $/MWh, LMP − energy

    @staticmethod
    def of(model: Model, lmp: np.ndarray) -> Prices:
        energy = lmp[:, model.case.buses.ref].copy()
        return Prices(lmp, energy, lmp - energy[:, None])


def demand_prices(model: Model, blocks: list[PricedRows], y: np.ndarray) -> np.ndarray:
    """(T, N) Σ y · ∂bound/∂demand over `blocks`."""
    prices = np.zeros((model.intervals, model.case.buses.n))
    for block in blocks:
        prices[block.t] += y[np.asarray(block.rows)] @ block.sens
    return prices


def binding_constraints(model: Model, blocks: list[PricedRows], y: np.ndarray, x: np.ndarray,
                        xs: np.ndarray | None) -> list[BindingConstraint]:
    """Security limits with a non-zero dual, with the flow (or unit output) of the dispatch: `x`
    (T, D) base, `xs` (T, S, D) scenario dispatches (None: the preventive response of `x`)."""
    case = model.case
    L = case.branches.n
    out = []
    dispatched: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}  # (t, s) → its dispatch and flows
    for block in blocks:
        t, s = block.t, block.scenario
        duals = y[np.asarray(block.rows)]
        binding = np.flatnonzero(np.abs(duals) > DUAL_TOL)
        if not len(binding):
            continue
        if (t, s) not in dispatched:  # once however many blocks (screening rounds) added its rows
            own = model.response(x[[t]], np.array([s]), np.array([t])) if xs is None else xs[[t]][:, [s]]
            dispatched[(t, s)] = own, model.scenario_flows(x[[t]], own, np.array([t]), np.array([s]))[0, 0]
        own, flows = dispatched[(t, s)]
        for k in binding.tolist():
            element, dual = block.elements[k], duals[k]
            if element < L:
                name, value, limit = case.branches.names[element], flows[element], model.rating(s)[element]
            else:
                d = element - L
                value = own[0, 0, d]
                limit = model.upper[block.t, d] if dual < 0 else model.lower[block.t, d]
                name = f"unit {case.generators.names[d]}"
            out.append(BindingConstraint(
                interval=block.t + 1, branch=name, contingency=None if s == 0 else case.contingencies[s - 1].label,
                flow_mw=float(value), limit_mw=float(limit), shadow_price=float(abs(dual))))
    return out


def sort_binding(binding: list[BindingConstraint]) -> list[BindingConstraint]:
    return sorted(binding, key=lambda b: (b.interval, b.contingency or "", b.branch))
