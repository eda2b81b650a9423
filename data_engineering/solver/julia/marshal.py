"""What crosses the Python ↔ Julia boundary, in both directions, as plain files and JSON.

Julia receives the case exactly as `write_case` exports it (MATPOWER v2 + the look-ahead sidecar) and
an options document; it answers with the result JSON `SolveResult.to_json` writes. Keeping the boundary
in files and JSON (no shared objects) is what lets the same package run from juliacall, from the
`julia` command line and from its own `Pkg.test()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_engineering.solver.case import Case
from data_engineering.solver.cases.matpower import write_case
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.result import BindingConstraint, IterationRecord, SolveResult

OPTIONS_FORMAT = "lascopf-julia-options/1"

# SolveOptions fields PowerLASCOPF.jl reads, by the same names.
JULIA_OPTION_FIELDS = ("method", "load_shedding", "voll_per_mwh", "feasibility_tol_mw", "max_screening_rounds",
                       "rho", "max_iterations", "primal_tol_mw", "dual_tol", "verify_tol_pu", "residual_balancing",
                       "balance_ratio")


@dataclass(frozen=True)
class JuliaInputs:
    m_path: Path
    sidecar_path: Path
    options: dict


def julia_options(options: SolveOptions) -> dict:
    """The options document; refuses what the Julia package does not implement instead of ignoring it."""
    if options.workers > 1 or options.dask_address:
        raise ValueError("PowerLASCOPF.jl solves its subproblems in one process; workers/dask are Python-only")
    if options.interval_block != 1:
        raise ValueError("interval_block (several intervals per ADMM subproblem) is not ported to PowerLASCOPF.jl; "
                         "use SOLVER_BACKEND=python")
    if options.mode != "preventive":
        raise ValueError(f"mode={options.mode!r} is not ported to PowerLASCOPF.jl (preventive only); use "
                         "SOLVER_BACKEND=python for corrective re-dispatch")
    if options.secure_spread:
        raise ValueError("secure_spread (the load band's envelope) is not ported to PowerLASCOPF.jl; use "
                         "SOLVER_BACKEND=python")
    if options.islanding != "refuse":
        raise ValueError(f"islanding={options.islanding!r} is not ported to PowerLASCOPF.jl (it refuses islanding "
                         "outages); use SOLVER_BACKEND=python to solve them with the cut-off load unserved")
    return {"format": OPTIONS_FORMAT, **{name: getattr(options, name) for name in JULIA_OPTION_FIELDS}}


def write_inputs(case: Case, options: SolveOptions, directory: str | Path, stem: str = "case") -> JuliaInputs:
    """`<stem>.m` and its sidecar `<stem>.json` in `directory`, and the options document."""
    units = [c.label for c in case.contingencies if c.is_generator]
    if units:
        raise ValueError(f"PowerLASCOPF.jl secures branch outages only; unit outages ({', '.join(units)}) are not "
                         "ported: use SOLVER_BACKEND=python")
    options_doc = julia_options(options)
    m_path, sidecar_path = write_case(case, Path(directory) / stem)
    return JuliaInputs(m_path, sidecar_path, options_doc)


def _matrix(columns: dict[str, list[float]], names: tuple[str, ...] | list[str], intervals: int) -> np.ndarray | None:
    """(T, len(names)) from `{name: [value per interval]}`; None when the document has no values."""
    if not columns:
        return None
    missing = [n for n in names if n not in columns]
    if missing:
        raise ValueError(f"result has no values for {missing[:5]}")
    out = np.array([columns[n] for n in names], dtype=float).T
    if out.shape[0] != intervals:
        raise ValueError(f"result has {out.shape[0]} intervals, the case {intervals}")
    return out


def _number(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def result_from_json(doc: dict, case: Case) -> SolveResult:
    """The inverse of `SolveResult.to_json`: a result document (from Julia or a file) as a `SolveResult`."""
    bus_names = [str(b) for b in case.buses.ids]
    T = case.intervals
    shed = _matrix(doc.get("shed") or {}, bus_names, T)
    result = SolveResult(
        case=doc["case"], method=doc["method"], status=doc["status"], message=doc.get("message", ""),
        objective=_number(doc.get("objective")), solve_time_s=float(doc.get("solve_time_s", 0.0)),
        iterations=int(doc.get("iterations", 0)),
        dispatch_mw=_matrix(doc.get("dispatch") or {}, case.generators.names, T),
        lmp=_matrix(doc.get("lmp") or {}, bus_names, T),
        flows_mw=_matrix(doc.get("flows") or {}, case.branches.names, T),
        binding=[BindingConstraint(**b) for b in doc.get("binding_constraints", [])],
        violation_mw={k: float(v) for k, v in (doc.get("violation_mw") or {}).items()},
        max_violation_pu=_number(doc.get("max_violation_pu")),
        infeasible_contingencies=list(doc.get("infeasible_contingencies", [])),
        islanding_contingencies=list(doc.get("islanding_contingencies", [])),
        history=[IterationRecord(**h) for h in doc.get("history", [])],
        screening_rounds=int(doc.get("screening_rounds", 0)),
        contingencies=int(doc.get("contingencies", len(case.contingencies))),
    )
    if result.dispatch_mw is not None:
        result.shed_mw = shed if shed is not None else np.zeros((T, case.buses.n))
    result.mode = doc.get("mode", "preventive")
    if result.lmp is not None:  # lossless DC: the energy component is the reference bus's price
        ref = case.buses.ref
        energy = doc.get("lmp_energy") or result.lmp[:, ref].tolist()
        result.lmp_energy = np.array(energy, dtype=float)
        result.lmp_congestion = _matrix(doc.get("lmp_congestion") or {}, bus_names, T)
        if result.lmp_congestion is None:
            result.lmp_congestion = result.lmp - result.lmp_energy[:, None]
    result.scenario_dispatch_mw = {k: _matrix(v, case.generators.names, T)
                                   for k, v in (doc.get("scenario_dispatch") or {}).items()}
    result.unserved_mw = {k: _sparse(v, bus_names, T) for k, v in (doc.get("unserved") or {}).items()}
    result.reserve_shortfall_mw = {k: float(v) for k, v in (doc.get("reserve_shortfall_mw") or {}).items()}
    return result


def _sparse(columns: dict[str, list[float]], names: list[str], intervals: int) -> np.ndarray:
    """(T, len(names)) from `{name: [value per interval]}` listing only the non-zero names."""
    out = np.zeros((intervals, len(names)))
    for i, n in enumerate(names):
        if n in columns:
            out[:, i] = columns[n]
    return out
