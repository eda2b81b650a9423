"""What Julia receives (files + options document) and what comes back (result JSON → SolveResult)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from data_engineering.solver.cases import load_case
from data_engineering.solver.cases.matpower import read_case
from data_engineering.solver.contingencies import select
from data_engineering.solver.julia.marshal import (
    JULIA_OPTION_FIELDS,
    OPTIONS_FORMAT,
    julia_options,
    result_from_json,
    write_inputs,
)
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.solve import solve_lascopf


def test_the_exported_files_hold_the_whole_case(tmp_path, paper5_secure):
    case = paper5_secure.with_emergency_factor(1.25)
    inputs = write_inputs(case, SolveOptions(method="admm"), tmp_path)
    assert inputs.m_path.suffix == ".m" and inputs.sidecar_path == inputs.m_path.with_suffix(".json")
    back = read_case(inputs.m_path)
    assert back.name == case.name and back.intervals == case.intervals
    np.testing.assert_allclose(back.load_mw, case.load_mw)
    np.testing.assert_allclose(back.branches.x_pu, case.branches.x_pu)
    np.testing.assert_allclose(back.branches.emergency_mw, case.branches.emergency_mw)
    for field in ("c2", "c1", "pmin_mw", "pmax_mw", "ramp_up_mw", "ramp_down_mw", "p0_mw"):
        np.testing.assert_allclose(getattr(back.generators, field), getattr(case.generators, field), err_msg=field)
    assert back.contingencies == case.contingencies
    assert back.generators.names == case.generators.names and back.branches.names == case.branches.names


def test_the_options_document_names_every_field_julia_reads():
    doc = julia_options(SolveOptions(method="admm", rho=3.0, load_shedding=True, max_iterations=50))
    assert doc["format"] == OPTIONS_FORMAT
    assert set(doc) == {"format", *JULIA_OPTION_FIELDS}
    assert doc["rho"] == 3.0 and doc["load_shedding"] is True and doc["max_iterations"] == 50
    assert set(JULIA_OPTION_FIELDS) <= set(SolveOptions.__dataclass_fields__)
    json.dumps(doc)  # plain JSON, nothing Python-only


@pytest.mark.parametrize("options, words", [
    (SolveOptions(method="admm", workers=2), "one process"),
    (SolveOptions(method="admm", dask_address="tcp://127.0.0.1:8786"), "one process"),
    (SolveOptions(mode="corrective"), "mode='corrective' is not ported"),
    (SolveOptions(islanding="shed"), "islanding='shed' is not ported"),
    (SolveOptions(method="admm", interval_block=12), "interval_block"),
])
def test_what_julia_does_not_implement_is_refused(options, words):
    with pytest.raises(ValueError, match=words):
        julia_options(options)


@pytest.mark.parametrize("method, shedding", [("admm", False), ("centralized", True)])
def test_a_result_document_reads_back_into_the_same_result(method, shedding):
    case = select(load_case("pglib_opf_case5_pjm", 3), "all")[0].with_emergency_factor(1.3)
    result = solve_lascopf(case, SolveOptions(method=method, load_shedding=shedding))
    assert result.ok
    doc = json.loads(json.dumps(result.to_json(case)))
    back = result_from_json(doc, case)
    assert back.to_json(case) == doc
    np.testing.assert_allclose(back.dispatch_mw, result.dispatch_mw, atol=1e-6)
    np.testing.assert_allclose(back.lmp, result.lmp, atol=1e-6)
    assert back.binding == result.binding


def test_a_document_for_another_case_is_refused(paper5_secure):
    case = select(load_case("pglib_opf_case5_pjm", 3), "none")[0]
    doc = solve_lascopf(case, SolveOptions(method="centralized")).to_json(case)
    with pytest.raises(ValueError, match="result has 3 intervals, the case 5"):
        result_from_json(doc, paper5_secure)
