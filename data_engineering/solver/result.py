"""The result record both solvers return, and its JSON form (what `lascopf solve --out` writes)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from data_engineering.solver.case import Case


@dataclass(frozen=True)
class BindingConstraint:
    interval: int  # 1-based
    branch: str  # the monitored branch
    contingency: str | None  # None for the base case
    flow_mw: float
    limit_mw: float
    shadow_price: float  # $/MWh per MW of extra rating


@dataclass(frozen=True)
class IterationRecord:
    iteration: int
    primal_residual_mw: float
    dual_residual: float  # ρ · change of the consensus, $/MWh
    rho: float
    objective: float
    scenarios: int  # contingency subproblems active


@dataclass
class SolveResult:
    case: str
    method: str
    status: str  # optimal | infeasible | not_converged | error (the solver failed, e.g. numerically)
    message: str = ""
    mode: str = "preventive"
    objective: float = float("nan")
    solve_time_s: float = 0.0
    iterations: int = 0
    dispatch_mw: np.ndarray | None = None  # (T, G)
    shed_mw: np.ndarray | None = None  # (T, N)
    lmp: np.ndarray | None = None  # (T, N) $/MWh
    lmp_energy: np.ndarray | None = None  # (T,) $/MWh: the reference bus's price
    lmp_congestion: np.ndarray | None = None  # (T, N) $/MWh: LMP − energy (lossless DC: no loss part)
    flows_mw: np.ndarray | None = None  # (T, L) base case
    binding: list[BindingConstraint] = field(default_factory=list)
    violation_mw: dict[str, float] = field(default_factory=dict)
    max_violation_pu: float = float("nan")
    infeasible_contingencies: list[str] = field(default_factory=list)
    islanding_contingencies: list[str] = field(default_factory=list)
    history: list[IterationRecord] = field(default_factory=list)
    scenario_dispatch_mw: dict[str, np.ndarray] = field(default_factory=dict)  # label → (T, G) where ≠ base
    unserved_mw: dict[str, np.ndarray] = field(default_factory=dict)  # "base" | label → (T, N) cut-off load
    reserve_shortfall_mw: dict[str, float] = field(default_factory=dict)  # unit outage → lost − headroom > 0
    screening_rounds: int = 0
    contingencies: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "optimal"

    @property
    def binding_contingencies(self) -> list[str]:
        return sorted({b.contingency for b in self.binding if b.contingency}, key=str)

    def to_json(self, case: Case) -> dict:
        def per_interval(names: tuple[str, ...] | list[str], values: np.ndarray | None) -> dict[str, list[float]]:
            if values is None:
                return {}
            return {str(n): [round(float(v), 6) for v in values[:, i]] for i, n in enumerate(names)}

        bus_names = [str(b) for b in case.buses.ids]
        return {
            "case": self.case, "method": self.method, "status": self.status, "message": self.message,
            "objective": None if np.isnan(self.objective) else self.objective,
            "iterations": self.iterations, "solve_time_s": round(self.solve_time_s, 4),
            "max_violation_pu": None if np.isnan(self.max_violation_pu) else self.max_violation_pu,
            "violation_mw": self.violation_mw,
            "intervals": case.intervals, "contingencies": self.contingencies,
            "dispatch": per_interval(case.generators.names, self.dispatch_mw),
            "generator_bus": {n: int(case.buses.ids[b]) for n, b in zip(case.generators.names, case.generators.bus,
                                                                         strict=True)},
            "mode": self.mode,
            "lmp": per_interval(bus_names, self.lmp),
            "lmp_energy": [] if self.lmp_energy is None else [round(float(v), 6) for v in self.lmp_energy],
            "lmp_congestion": per_interval(bus_names, self.lmp_congestion),
            "shed": per_interval(bus_names, self.shed_mw) if self.shed_mw is not None and self.shed_mw.any() else {},
            "flows": per_interval(case.branches.names, self.flows_mw),
            "binding_contingencies": self.binding_contingencies,
            "binding_constraints": [b.__dict__ for b in self.binding],
            "infeasible_contingencies": self.infeasible_contingencies,
            "islanding_contingencies": self.islanding_contingencies,
            "scenario_dispatch": {k: per_interval(case.generators.names, v)
                                  for k, v in self.scenario_dispatch_mw.items()},
            "unserved": {k: {b: vals for b, vals in per_interval(bus_names, v).items() if any(vals)}
                         for k, v in self.unserved_mw.items()},
            "reserve_shortfall_mw": self.reserve_shortfall_mw,
            "screening_rounds": self.screening_rounds,
            "history": [h.__dict__ for h in self.history],
        }
