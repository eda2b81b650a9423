"""`SOLVER_BACKEND=julia`: the case goes to PowerLASCOPF.jl through juliacall, the answer comes back as
the same result JSON, and Python's own full constraint check decides whether it is optimal.

juliacall finds Julia and the environment holding PowerLASCOPF.jl from `PYTHON_JULIACALL_EXE` and
`PYTHON_JULIACALL_PROJECT`, which the solver container (`Dockerfile.julia`) sets.
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Callable

import numpy as np

from data_engineering.solver.case import Case
from data_engineering.solver.julia.marshal import result_from_json, write_inputs
from data_engineering.solver.model import Model, build_model
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.result import SolveResult
from data_engineering.solver.solve import accept

# (MATPOWER path, sidecar path, options JSON) → result JSON
JuliaSolver = Callable[[str, str, str], str]


class JuliaUnavailable(RuntimeError):
    pass


@functools.cache
def juliacall_solver() -> JuliaSolver:
    """`PowerLASCOPF.solve_files`, loaded once per process (starting Julia takes seconds)."""
    try:
        from juliacall import Main as jl

        jl.seval("using PowerLASCOPF")
    except Exception as exc:  # noqa: BLE001 - ImportError, or Julia itself failing to start or load the package
        raise JuliaUnavailable(
            "SOLVER_BACKEND=julia needs juliacall and a Julia environment holding PowerLASCOPF.jl: run it in "
            "the solver-julia container (Dockerfile.julia), or pip install juliacall and set "
            f"PYTHON_JULIACALL_EXE and PYTHON_JULIACALL_PROJECT ({type(exc).__name__}: {exc})") from exc
    return lambda m_path, sidecar_path, options: str(jl.PowerLASCOPF.solve_files(m_path, sidecar_path, options))


def device_outputs(model: Model, result: SolveResult) -> np.ndarray:
    """The (T, D) device outputs behind a result: the dispatch, then each shedding device's bus's shed."""
    return np.c_[result.dispatch_mw, result.shed_mw[:, model.device_bus[model.n_gen:]]]


def solve_julia(case: Case, options: SolveOptions, solver: JuliaSolver | None = None) -> SolveResult:
    """Islanding is refused here before Julia runs, with the Python solver's message (`build_model`)."""
    model = build_model(case, options)
    with tempfile.TemporaryDirectory(prefix="lascopf-julia-") as tmp:
        inputs = write_inputs(case, options, tmp)
        solver = solver or juliacall_solver()
        answer = solver(str(inputs.m_path), str(inputs.sidecar_path), json.dumps(inputs.options))
    result = result_from_json(json.loads(answer), case)
    if result.ok:
        accept(result, model, device_outputs(model, result))
    return result
