"""The fixtures PowerLASCOPF.jl's own tests compare against must be what the Python solver gives today."""

from __future__ import annotations

import json

import numpy as np
import pytest

from data_engineering.solver.julia.golden import GOLDEN, GOLDEN_DIR, write_golden


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    directory = tmp_path_factory.mktemp("golden")
    write_golden(directory)
    return directory


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda g: g.name)
def test_committed_inputs_are_the_current_export(fresh, golden):
    for suffix in (".m", ".json", ".options.json"):
        assert (fresh / f"{golden.name}{suffix}").read_text() == (GOLDEN_DIR / f"{golden.name}{suffix}").read_text(), (
            f"{golden.name}{suffix} is stale: python -m data_engineering.solver.julia.golden")


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda g: g.name)
def test_committed_answers_are_the_current_python_answers(fresh, golden):
    now = json.loads((fresh / f"{golden.name}.expected.json").read_text())
    committed = json.loads((GOLDEN_DIR / f"{golden.name}.expected.json").read_text())
    assert now["status"] == committed["status"] == "optimal"
    assert now["objective"] == pytest.approx(committed["objective"], rel=1e-7)
    assert now["binding_contingencies"] == committed["binding_contingencies"]
    for table in ("dispatch", "lmp", "flows"):
        assert now[table].keys() == committed[table].keys()
        for name, values in committed[table].items():
            np.testing.assert_allclose(now[table][name], values, atol=1e-4, err_msg=f"{golden.name} {table} {name}")


def test_the_golden_cases_exercise_what_matters():
    """Binding post-contingency limits, ramps that make ADMM iterate, and linear as well as quadratic costs."""
    answers = {g.name: json.loads((GOLDEN_DIR / f"{g.name}.expected.json").read_text()) for g in GOLDEN}
    assert any(a["binding_contingencies"] for a in answers.values())
    assert max(a["iterations"] for a in answers.values()) > 20
    assert all(a["contingencies"] > 0 for a in answers.values())
