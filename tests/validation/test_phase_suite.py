"""The phase-measurement suite: the contract, voltage and frequency bands, and |P| ≤ |V·I| per phase."""

import numpy as np
import pandas as pd
import pytest

from data_engineering.contracts.telemetry import phase_measurement
from data_engineering.simulation.grid import load_reference_grid
from data_engineering.validation.gate import run_gate
from data_engineering.validation.suites import QualityLimits, phase_suite, prepare_phases
from tests.simulation.streams import simulate


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    run = simulate(load_reference_grid("case14"), duration_s=60, n_meters=40)
    return pd.DataFrame(list(run.phases.values()))


def _failed(frame: pd.DataFrame) -> set[tuple[str, str | None]]:
    suite = phase_suite(phase_measurement(), QualityLimits())
    return {(o.expectation, o.column) for o in run_gate([(suite, prepare_phases(frame))]).failures}


def test_simulated_points_pass(frame):
    assert _failed(frame) == set()


@pytest.mark.parametrize("defect,expected", [
    (lambda f: f.assign(p_b_kw=f.p_b_kw * 3 + 1), ("expect_column_values_to_be_between", "p_excess_b_kw")),
    (lambda f: f.assign(v_c_v=400.0), ("expect_column_values_to_be_between", "vm_c_pu")),
    (lambda f: f.assign(freq_hz=np.where(f.index % 10 == 0, 58.0, 60.0)),
     ("expect_column_values_to_be_between", "freq_hz")),
    (lambda f: f.assign(point_kind="substation"), ("expect_column_values_to_be_in_set", "point_kind")),
    (lambda f: pd.concat([f, f.iloc[:1]], ignore_index=True),
     ("expect_compound_columns_to_be_unique", "point_kind,point_id,ts")),
])
def test_each_defect_fails_its_expectation(frame, defect, expected):
    assert expected in _failed(defect(frame))
