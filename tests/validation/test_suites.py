"""The expectation suites against hand-made batches: clean data passes, each defect fails the
expectation meant to catch it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from data_engineering.contracts.telemetry import SCADA_MEASUREMENT, ami_reading
from data_engineering.solver.cases import paper5
from data_engineering.validation.gate import run_gate
from data_engineering.validation.suites import (
    QualityLimits,
    ami_suite,
    case_suites,
    case_tables,
    prepare_ami,
    prepare_scada,
    scada_suite,
)

T0 = pd.Timestamp("2026-11-20T12:00:00Z")
BETWEEN = "expect_column_values_to_be_between"


def _ami(n: int = 50) -> pd.DataFrame:
    """Two meters at 1 Hz with meter noise: 5 % on power, 0.5 V on voltage (rounded to 0.01 V)."""
    rng = np.random.default_rng(3)
    rows = [{"event_ts": T0 + pd.Timedelta(seconds=s), "meter_id": f"m{m}", "pole_id": "p0", "seq": s,
             "voltage_v": round(240.0 + m + rng.normal(0, 0.5), 2), "current_a": 4.0,
             "power_kw": 0.9 * (1 + rng.normal(0, 0.05)), "reactive_kvar": 0.3, "freq_hz": 60.01,
             "network_profile": "wired", "bus_id": 2, "nominal_voltage_v": 240.0}
            for m in range(2) for s in range(n)]
    return pd.DataFrame(rows)


def _scada(n: int = 200) -> pd.DataFrame:
    """Every 5 s: a bus, two loads and a unit, power with noise."""
    rng = np.random.default_rng(5)
    elements = (("bus", "2", None), ("load", "L2", 30.0), ("load", "L3", 20.0), ("generator", "G1", 50.0))
    rows = [{"ts": T0 + pd.Timedelta(seconds=5 * k), "element_type": kind, "element_id": name, "bus_id": 2,
             "p_mw": None if p is None else round(p * (1 + rng.normal(0, 0.01)), 3), "q_mvar": None,
             "vm_pu": 1.0 if p is None else None, "va_deg": None, "freq_hz": 60.0, "quality_code": "good"}
            for k in range(n) for kind, name, p in elements]
    return pd.DataFrame(rows)


def _failures(suite, frame: pd.DataFrame) -> set[tuple[str, str | None]]:  # noqa: ANN001 - a SuiteSpec
    return {(o.expectation, o.column) for o in run_gate([(suite, frame)]).failures}


def _failed(frame: pd.DataFrame) -> set[tuple[str, str | None]]:
    return _failures(ami_suite(ami_reading(), QualityLimits()), prepare_ami(frame))


def _scada_failed(frame: pd.DataFrame) -> set[tuple[str, str | None]]:
    return _failures(scada_suite(SCADA_MEASUREMENT, QualityLimits()), prepare_scada(frame))


def _where(frame: pd.DataFrame, rows: pd.Series, **values: object) -> pd.DataFrame:
    """A copy with `values` set on `rows`."""
    out = frame.copy()
    for column, value in values.items():
        out.loc[rows, column] = value
    return out


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
    (lambda f: _where(f, (f.meter_id == "m0") & (f.seq >= 20), power_kw=0.87), (BETWEEN, "power_flatline_run")),
    (lambda f: _where(f, f.meter_id == "m0", voltage_v=241.5), (BETWEEN, "voltage_flatline_run")),
    (lambda f: _where(f, f.meter_id == "m1", power_kw=0.0), (BETWEEN, "power_zero_run")),
    (lambda f: f[(f.meter_id == "m1") | (f.seq % 2 == 0)], (BETWEEN, "meter_completeness")),
    (lambda f: f[(f.meter_id == "m1") | (f.seq % 2 == 0)], (BETWEEN, "bus_completeness")),
    (lambda f: f.assign(event_ts=f.event_ts + pd.Timedelta(minutes=10) * (f.seq >= 25),
                        seq=f.seq + 600 * (f.seq >= 25)), (BETWEEN, "gap_s")),
    (lambda f: f.assign(seq=f.seq + 1000 * (f.seq >= 25)), (BETWEEN, "seq_step")),
])
def test_each_defect_fails_its_expectation(defect, expected) -> None:  # noqa: ANN001
    assert expected in _failed(defect(_ami()))


def test_a_sag_is_data_not_an_error() -> None:
    frame = _ami()
    frame.loc[frame.index[:3], "voltage_v"] = 150.0  # 3 % of the readings in a sag: within `mostly`
    assert _failed(frame) == set()


def test_clean_measurements_pass() -> None:
    assert _scada_failed(_scada()) == set()


def test_one_reading_per_meter_or_element_passes() -> None:
    """No cadence, no gap, no run to judge: a small landing file is not a hole."""
    assert _failed(_ami(1)) == set()
    assert _scada_failed(_scada(1)) == set()


def test_an_offline_unit_at_zero_is_data_not_an_error() -> None:
    frame = _scada()
    assert _scada_failed(_where(frame, frame.element_type == "generator", p_mw=0.0)) == set()


@pytest.mark.parametrize("defect,expected", [
    (lambda f: _where(f, f.element_id == "L2", p_mw=30.0), (BETWEEN, "flatline_run")),
    (lambda f: _where(f, f.element_id == "G1", p_mw=48.5), (BETWEEN, "flatline_run")),
    (lambda f: _where(f, f.element_id == "L3", p_mw=0.0), (BETWEEN, "zero_run")),
    (lambda f: f[(f.ts < T0 + pd.Timedelta(minutes=5)) | (f.ts > T0 + pd.Timedelta(minutes=15))], (BETWEEN, "gap_s")),
])
def test_each_scada_defect_fails_its_expectation(defect, expected) -> None:  # noqa: ANN001
    assert expected in _scada_failed(defect(_scada()))


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
