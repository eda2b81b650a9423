"""`SOLVER_BACKEND=julia` end to end on the Python side: files out, JSON back, Python's own check.

The Julia call itself is replaced by a solver that reads the very files Julia would get (so the
export is exercised) and answers in the result JSON; the real PowerLASCOPF.jl runs in
`test_parity.py` wherever a `julia` executable is on PATH.
"""

from __future__ import annotations

import json
import sys

import pytest

from data_engineering.solver.cases import load_case
from data_engineering.solver.cases.matpower import read_case
from data_engineering.solver.contingencies import IslandingRefused, select
from data_engineering.solver.julia import backend
from data_engineering.solver.julia.backend import JuliaUnavailable, solve_julia
from data_engineering.solver.julia.marshal import OPTIONS_FORMAT
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.solve import solve_case, solve_lascopf


def python_answer(m_path: str, sidecar_path: str, options_json: str) -> str:
    """Answers the way PowerLASCOPF.jl does, from the same inputs."""
    doc = json.loads(options_json)
    assert doc.pop("format") == OPTIONS_FORMAT
    case = read_case(m_path)
    assert sidecar_path == m_path[:-2] + ".json"
    return json.dumps(solve_lascopf(case, SolveOptions(**doc)).to_json(case))


def test_the_answer_comes_back_as_the_python_solver_gives_it(paper5_secure):
    options = SolveOptions(method="admm")
    got = solve_julia(paper5_secure, options, python_answer)
    want = solve_lascopf(paper5_secure, options)
    assert got.status == "optimal"
    assert got.objective == pytest.approx(want.objective, rel=1e-9)
    assert got.binding_contingencies == want.binding_contingencies == ["outage 3-4"]
    assert got.max_violation_pu < 1e-6


def test_an_answer_that_breaks_a_limit_is_not_called_optimal(paper5_secure):
    def off_balance(m_path: str, sidecar_path: str, options_json: str) -> str:
        doc = json.loads(python_answer(m_path, sidecar_path, options_json))
        doc["dispatch"]["G1"][2] += 5.0  # 5 MW more than the load in interval 3
        return json.dumps(doc)

    got = solve_julia(paper5_secure, SolveOptions(method="admm"), off_balance)
    assert got.status == "not_converged"
    assert "balance" in got.message
    assert got.violation_mw["balance"] == pytest.approx(5.0, abs=1e-6)


def test_shedding_answers_are_checked_with_their_shed_devices(paper5_secure):
    case = paper5_secure.with_loads(paper5_secure.load_mw * 1.9)  # more than the units can serve
    got = solve_julia(case, SolveOptions(method="centralized", load_shedding=True), python_answer)
    assert got.status == "optimal"
    assert got.shed_mw.sum() > 0


def test_without_juliacall_the_error_says_where_julia_runs(monkeypatch, paper5_secure):
    monkeypatch.setitem(sys.modules, "juliacall", None)  # import juliacall → ImportError
    backend.juliacall_solver.cache_clear()
    with pytest.raises(JuliaUnavailable, match="Dockerfile.julia"):
        solve_case(paper5_secure, SolveOptions(method="admm"), backend="julia")
    backend.juliacall_solver.cache_clear()


def test_an_unknown_backend_is_refused(paper5_secure):
    with pytest.raises(ValueError, match="python or julia"):
        solve_case(paper5_secure, SolveOptions(), backend="fortran")


def test_islanding_and_unit_outages_are_refused_before_julia_runs(paper5_secure):
    """Both backends refuse an islanding outage with the same message; unit outages are Python-only."""
    def never(*_):  # noqa: ANN002, ANN202
        raise AssertionError("Julia must not be called")

    case30 = load_case("pglib_opf_case30_ieee", 2)
    radial = case30.with_contingencies([case30.contingency(case30.branches.names.index("25-26"))])
    with pytest.raises(IslandingRefused) as python:
        solve_lascopf(radial)
    with pytest.raises(IslandingRefused) as julia:
        solve_julia(radial, SolveOptions(), never)
    assert str(python.value) == str(julia.value)
    units = select(paper5_secure, "G:G1")[0]
    with pytest.raises(ValueError, match="unit outages .*outage G:G1.* are not ported"):
        solve_julia(units, SolveOptions(), never)
