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
from data_engineering.solver.model import Model, build_model
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.result import IterationRecord, SolveResult
from data_engineering.solver.verify import verify

ACCEPT_TOL_PU = 1e-3  # worst violation (per unit of base MVA) an answer may have and still be called optimal


def solve_lascopf(case: Case, options: SolveOptions | None = None,
                  progress: Callable[[IterationRecord], None] | None = None) -> SolveResult:
    options = options or SolveOptions()
    start = time.perf_counter()
    model = build_model(case, options)
    result = SolveResult(case=case.name, method=options.method, status="error", contingencies=len(case.contingencies))
    if options.method == "centralized":
        ext = solve_extensive(model, tol_mw=options.feasibility_tol_mw, max_rounds=options.max_screening_rounds)
        result.status, x, lmp, binding = ext.status, ext.x, ext.lmp, ext.binding
        result.screening_rounds, result.iterations = ext.rounds, ext.rounds
    elif options.method == "admm":
        out = solve_admm(model, options, progress)
        result.status, result.message, x, lmp, binding = out.status, out.message, out.x, out.lmp, out.binding
        result.iterations, result.history = out.iterations, out.history
    else:
        raise ValueError(f"unknown method {options.method!r}: centralized or admm")
    if result.status == "optimal":  # results are assigned on success only
        _assign(result, model, x, lmp, binding)
    if result.status != "optimal":
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


def accept(result: SolveResult, model: Model, x: np.ndarray) -> None:
    """Record the full constraint check of the (T, D) device outputs `x`; beyond tolerance, not optimal."""
    check = verify(model, x)
    result.violation_mw = check.violation_mw
    result.max_violation_pu = check.max_violation_mw / model.case.base_mva
    if result.max_violation_pu > ACCEPT_TOL_PU:
        result.status, result.message = "not_converged", f"worst violation {check.worst}"


def _assign(result: SolveResult, model: Model, x: np.ndarray, lmp: np.ndarray | None, binding: list) -> None:
    result.objective = model.cost(x)
    result.dispatch_mw = x[:, : model.n_gen]
    shed = np.zeros_like(model.demand)
    np.add.at(shed.T, model.device_bus[model.n_gen:], x[:, model.n_gen:].T)
    result.shed_mw = shed
    result.lmp, result.binding = lmp, binding
    result.flows_mw = model.flows(x)
    accept(result, model, x)


def _diagnose(result: SolveResult, model: Model, options: SolveOptions) -> None:
    found = diagnose(model, options.feasibility_tol_mw)
    if found.infeasible:
        result.status = "infeasible"
    result.infeasible_contingencies = [model.case.contingencies[s - 1].label for s in found.culprits]
    names = ", ".join(result.infeasible_contingencies)
    result.message = "; ".join(m for m in (result.message, found.message + (f": {names}" if names else "")) if m)
