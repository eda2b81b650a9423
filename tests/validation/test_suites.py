"""The expectation suites against hand-made batches: clean data passes, each defect fails the
expectation meant to catch it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from data_engineering.contracts.telemetry import ami_reading
from data_engineering.solver.cases import paper5
from data_engineering.validation.gate import run_gate
from data_engineering.validation.suites import QualityLimits, ami_suite, case_suites, case_tables, prepare_ami

T0 = pd.Timestamp("2026-11-20T12:00:00Z")


def _ami(n: int = 50) -> pd.DataFrame:
    rows = [{"event_ts": T0 + pd.Timedelta(seconds=s), "meter_id": f"m{m}", "pole_id": "p0", "seq": s,
             "voltage_v": 240.0 + m, "current_a": 4.0, "power_kw": 0.9, "reactive_kvar": 0.3, "freq_hz": 60.01,
             "network_profile": "wired", "bus_id": 2, "nominal_voltage_v": 240.0}
            for m in range(2) for s in range(n)]
    return pd.DataFrame(rows)


def _failed(frame: pd.DataFrame) -> set[tuple[str, str | None]]:
    result = run_gate([(ami_suite(ami_reading(), QualityLimits()), prepare_ami(frame))])
    return {(o.expectation, o.column) for o in result.failures}


def test_clean_readings_pass() -> None:
    result = run_gate([(ami_suite(ami_reading(), QualityLimits()), prepare_ami(_ami()))])
    assert result.success, result.reason()
    assert "index.html" in result.docs and any(k.startswith("validations/") for k in result.docs)


@pytest.mark.parametrize("defect,expected", [
    (lambda f: f.assign(voltage_v=400.0), ("expect_column_values_to_be_between", "vm_pu")),
    (lambda f: f.assign(freq_hz=np.where(f.index % 10 == 0, 58.0, 60.0)),
     ("expect_column_values_to_be_between", "freq_hz")),
    (lambda f: f.assign(seq=np.where(f.meter_id == "m0", 100 - f.seq, f.seq)),
     ("expect_column_values_to_be_between", "seq_step")),
    (lambda f: f.assign(bus_id=np.where(f.meter_id == "m1", np.nan, 2)),
     ("expect_column_values_to_not_be_null", "bus_id")),
    (lambda f: pd.concat([f, f.iloc[[3]]]), ("expect_compound_columns_to_be_unique", "meter_id,seq")),
])
def test_each_defect_fails_its_expectation(defect, expected) -> None:  # noqa: ANN001
    assert expected in _failed(defect(_ami()))


def test_a_sag_is_data_not_an_error() -> None:
    frame = _ami()
    frame.loc[frame.index[:3], "voltage_v"] = 150.0  # 3 % of the readings in a sag: within `mostly`
    assert _failed(frame) == set()


def test_case_suite_catches_inconsistent_limits_and_loads() -> None:
    case = paper5()
    tables = case_tables(case)
    assert run_gate([(s, tables[s.name]) for s in case_suites()]).success
    gens = case.generators
    broken = replace(case, load_mw=case.load_mw * 3.0,
                     generators=replace(gens, p0_mw=gens.pmax_mw + 10.0))
    tables = case_tables(broken)
    failures = {(o.suite, o.expectation, o.column) for o in run_gate([(s, tables[s.name])
                                                                     for s in case_suites()]).failures}
    assert ("case_intervals", "expect_column_pair_values_a_to_be_greater_than_b", "pmax_mw,load_mw") in failures
    assert ("case_generators", "expect_column_values_to_be_between", "headroom_mw") in failures
