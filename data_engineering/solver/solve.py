"""`solve_lascopf`: case → model (matrices) → algorithm → result record, in four visible steps.

Whatever the algorithm, the answer is checked against the full constraint set (`verify`) before it
is called optimal, and a failed solve is diagnosed: the base case alone, or the contingencies that
are infeasible on their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from data_engineering.solver.admm.coordinator import solve_admm
from data_engineering.solver.case import Case
from data_engineering.solver.centralized import diagnose, solve_extensive
from data_engineering.solver.duals import Prices
from data_engineering.solver.model import Model, build_model
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.result import IterationRecord, SolveResult
from data_engineering.solver.verify import scenario_dispatch, verify

ACCEPT_TOL_PU = 1e-3  # worst violation (per unit of base MVA) an answer may have and still be called optimal


def solve_lascopf(case: Case, options: SolveOptions | None = None,
                  progress: Callable[[IterationRecord], None] | None = None) -> SolveResult:
    """Raises `IslandingRefused` (a ValueError) for an outage or topology that cuts buses off, unless
    `options.islanding == "shed"`."""
    options = options or SolveOptions()
    start = time.perf_counter()
    model = build_model(case, options)
    result = SolveResult(case=case.name, method=options.method, status="error", mode=options.mode,
                         contingencies=len(case.contingencies))
    if options.method == "centralized":
        ext = solve_extensive(model, tol_mw=options.feasibility_tol_mw, max_rounds=options.max_screening_rounds,
                              max_rows=options.max_rows_per_round)
        result.status, x, xs, prices, binding = ext.status, ext.x, ext.xs, ext.prices, ext.binding
        result.screening_rounds, result.iterations = ext.rounds, ext.rounds
        if result.status not in ("optimal", "infeasible", "not_converged"):
            result.status, result.message = "error", f"solver failure: the extensive form ended {ext.status}"
    elif options.method == "admm":
        out = solve_admm(model, options, progress)
        result.status, result.message, x, xs, prices, binding = (out.status, out.message, out.x, out.xs, out.prices,
                                                                 out.binding)
        result.iterations, result.history = out.iterations, out.history
    else:
        raise ValueError(f"unknown method {options.method!r}: centralized or admm")
    result.unserved_mw = unserved(model)
    if result.status == "optimal":  # results are assigned on success only
        _assign(result, model, x, xs, prices, binding)
    if result.status not in ("optimal", "error"):
        _diagnose(result, model, options)
    result.solve_time_s = time.perf_counter() - start
    return result


def solve_case(case: Case, options: SolveOptions | None = None, backend: str = "python",
               progress: Callable[[IterationRecord], None] | None = None) -> SolveResult:
    """`solve_lascopf` here (backend `python`), or PowerLASCOPF.jl through juliacall (`julia`)."""
    if backend == "julia":
        from data_engineering.solver.julia.backend import solve_julia

        return solve_julia(case, options or SolveOptions())
    if backend != "python":
        raise ValueError(f"unknown solver backend {backend!r}: python or julia")
    return solve_lascopf(case, options, progress)


def accept(result: SolveResult, model: Model, x: np.ndarray, xs: np.ndarray | None = None) -> None:
    """Record the full constraint check of the (T, D) device outputs `x` (and the (T, S, D) scenario
    dispatches `xs`); beyond tolerance, not optimal."""
    check = verify(model, x, xs)
    result.violation_mw = check.violation_mw
    result.max_violation_pu = check.max_violation_mw / model.case.base_mva
    if result.max_violation_pu > ACCEPT_TOL_PU:
        result.status, result.message = "not_converged", f"worst violation {check.worst}"


def unserved(model: Model) -> dict[str, np.ndarray]:
    """Load cut off, per bus and interval: by the base topology, and by each islanding outage."""
    out = {"base": model.unserved_base} if model.unserved_base.any() else {}
    for s, c in enumerate(model.case.contingencies, start=1):
        if model.island[s].any():
            out[c.label] = model.unserved(s)
    return out


def reserve_shortfall(model: Model, x: np.ndarray) -> dict[str, float]:
    """Per unit outage, the worst interval's lost output beyond what the other units can add (their
    headroom; in corrective mode also within their corrective ramps); only shortfalls > 0."""
    out = {}
    for s, c in enumerate(model.case.contingencies, start=1):
        if not c.is_generator:
            continue
        others = ~model.lost[s] & (np.arange(model.n_devices) < model.n_gen)
        room = model.upper - x
        if model.corrective:
            room = np.minimum(room, model.corrective_up)
        short = (x * model.lost[s]).sum(axis=1) - model.unserved(s).sum(axis=1) - room[:, others].sum(axis=1)
        if short.max() > 1e-6:
            out[c.label] = float(short.max())
    return out


def _assign(result: SolveResult, model: Model, x: np.ndarray, xs: np.ndarray | None, prices: Prices | None,
            binding: list) -> None:
    result.objective = model.cost(x)
    result.dispatch_mw = x[:, : model.n_gen]
    shed = np.zeros_like(model.demand)
    np.add.at(shed.T, model.device_bus[model.n_gen:], x[:, model.n_gen:].T)
    result.shed_mw = shed
    if prices is not None:
        result.lmp, result.lmp_energy, result.lmp_congestion = prices.lmp, prices.energy, prices.congestion
    result.binding = binding
    result.flows_mw = model.flows(x)
    xs = scenario_dispatch(model, x, xs)
    if xs is None:  # preventive: only the scenarios that lose output move the units
        moved = np.flatnonzero(model.lost.any(axis=1) | model.participation.any(axis=1))
        scenarios, dispatch = moved, model.response(x, moved)
    else:  # where the response itself is secure, it is the corrective dispatch reported
        every = np.arange(model.n_scenarios)
        scenarios, dispatch = every, np.where(model.insecure(x, ACCEPT_TOL_PU * model.case.base_mva)[..., None], xs,
                                              model.response(x, every))
    for j, s in enumerate(scenarios.tolist()):
        if s > 0 and np.abs(dispatch[:, j, : model.n_gen] - x[:, : model.n_gen]).max() > 1e-6:
            result.scenario_dispatch_mw[model.case.contingencies[s - 1].label] = dispatch[:, j, : model.n_gen]
    result.reserve_shortfall_mw = reserve_shortfall(model, x)
    accept(result, model, x, xs)


def _diagnose(result: SolveResult, model: Model, options: SolveOptions) -> None:
    known = options.method == "centralized" and result.status == "infeasible"
    found = diagnose(model, options.feasibility_tol_mw, known_infeasible=known, max_rows=options.max_rows_per_round)
    if found.infeasible:
        result.status = "infeasible"
    elif found.failed:
        result.status = "error"
    if found.base_x is not None:
        result.reserve_shortfall_mw = reserve_shortfall(model, found.base_x)
    result.infeasible_contingencies = [model.case.contingencies[s - 1].label for s in found.culprits]
    names = ", ".join(result.infeasible_contingencies)
    band = " (secured for the load band too)" if model.deviation is not None else ""
    result.message = "; ".join(m for m in (result.message, found.message + (f": {names}" if names else "") + band) if m)
