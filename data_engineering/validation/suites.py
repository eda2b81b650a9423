"""Expectation suites. Column-level checks come from the record contracts (`RecordSpec`: required,
bounds, enums), described once; the physics (voltage and frequency bands, power factor, per-meter
sequence order, balance and limit consistency of a case) is added per suite. Some checks need a
derived column (power factor, sequence step): `prepare_*` adds them to the batch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data_engineering.contracts.spec import RecordSpec
from data_engineering.solver.case import Case
from data_engineering.validation.gx import load_gx


@dataclass(frozen=True)
class SuiteSpec:
    """A suite's name and expectations; the gate turns it into a GX suite inside its context."""

    name: str
    expectations: list


@dataclass(frozen=True)
class QualityLimits:
    """Bands the telemetry is expected to stay in; `mostly` leaves room for real events (a sag is
    data, not an error) while a systematic fault fails the gate."""

    nominal_frequency_hz: float = 60.0
    voltage_band_pu: tuple[float, float] = (0.9, 1.1)
    voltage_mostly: float = 0.95
    frequency_band_hz: float = 0.5
    frequency_mostly: float = 0.999
    scada_voltage_band_pu: tuple[float, float] = (0.9, 1.1)


def contract_suite(name: str, spec: RecordSpec) -> SuiteSpec:
    return SuiteSpec(name, contract_expectations(spec))


def contract_expectations(spec: RecordSpec, columns: tuple[str, ...] | None = None) -> list:
    """Not-null for required fields, ranges for bounded numbers, value sets for enums."""
    e = load_gx().expectations
    out = []
    for f in spec.fields:
        if columns is not None and f.name not in columns:
            continue
        if f.required:
            out.append(e.ExpectColumnValuesToNotBeNull(column=f.name))
        if f.kind in ("number", "integer") and (f.minimum is not None or f.maximum is not None):
            out.append(e.ExpectColumnValuesToBeBetween(column=f.name, min_value=f.minimum, max_value=f.maximum))
        if f.kind == "enum":
            out.append(e.ExpectColumnValuesToBeInSet(column=f.name, value_set=list(f.choices)))
    return out


def prepare_ami(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds `vm_pu`, `power_factor` (P / |S|, signed) and `seq_step` (each reading's seq minus the
    meter's previous one in event-time order: ≥ 1 when seq increases with time)."""
    ordered = frame.sort_values(["meter_id", "event_ts", "seq"], kind="stable")
    apparent = np.hypot(ordered["power_kw"], ordered["reactive_kvar"].fillna(0.0))
    return ordered.assign(
        vm_pu=ordered["voltage_v"] / ordered["nominal_voltage_v"],
        power_factor=np.where(apparent > 0, ordered["power_kw"] / apparent.where(apparent > 0), 1.0),
        seq_step=ordered.groupby("meter_id")["seq"].diff(),
    )


def ami_suite(spec: RecordSpec, limits: QualityLimits) -> SuiteSpec:
    e = load_gx().expectations
    critical = ("event_ts", "meter_id", "pole_id", "seq", "voltage_v", "power_kw")
    expectations = contract_expectations(spec, critical + ("current_a", "reactive_kvar", "freq_hz"))
    lo, hi = limits.voltage_band_pu
    f0, df = limits.nominal_frequency_hz, limits.frequency_band_hz
    expectations += [
        e.ExpectColumnValuesToNotBeNull(column="bus_id"),  # every meter is in the asset model
        e.ExpectColumnValuesToBeBetween(column="vm_pu", min_value=lo, max_value=hi, mostly=limits.voltage_mostly),
        e.ExpectColumnValuesToBeBetween(column="freq_hz", min_value=f0 - df, max_value=f0 + df,
                                        mostly=limits.frequency_mostly),
        e.ExpectColumnValuesToBeBetween(column="power_factor", min_value=-1.0, max_value=1.0),
        e.ExpectColumnValuesToBeBetween(column="seq_step", min_value=1),
        e.ExpectCompoundColumnsToBeUnique(column_list=["meter_id", "seq"]),
        e.ExpectTableRowCountToBeBetween(min_value=1),
    ]
    return SuiteSpec("ami_readings", expectations)


def scada_suite(spec: RecordSpec, limits: QualityLimits) -> SuiteSpec:
    e = load_gx().expectations
    lo, hi = limits.scada_voltage_band_pu
    f0, df = limits.nominal_frequency_hz, limits.frequency_band_hz
    return SuiteSpec("scada_measurements", [*contract_expectations(spec),
        e.ExpectColumnValuesToBeBetween(column="vm_pu", min_value=lo, max_value=hi, mostly=limits.voltage_mostly),
        e.ExpectColumnValuesToBeBetween(column="freq_hz", min_value=f0 - df, max_value=f0 + df,
                                        mostly=limits.frequency_mostly),
        e.ExpectCompoundColumnsToBeUnique(column_list=["element_type", "element_id", "ts"]),
        e.ExpectTableRowCountToBeBetween(min_value=1),
    ])


def case_tables(case: Case) -> dict[str, pd.DataFrame]:
    """The built case as the frames its suite checks: per interval (balance plausibility), per
    generator (limits, P0, ramps) and per branch (reactance, ratings)."""
    g, b = case.generators, case.branches
    intervals = pd.DataFrame({"interval": np.arange(1, case.intervals + 1),
                              "load_mw": case.load_mw.sum(axis=1), "pmax_mw": float(g.pmax_mw.sum()),
                              "pmin_mw": float(g.pmin_mw.sum()), "min_bus_load_mw": case.load_mw.min(axis=1)})
    generators = pd.DataFrame({"gen_id": list(g.names), "pmin_mw": g.pmin_mw, "pmax_mw": g.pmax_mw,
                               "p0_mw": g.p0_mw, "ramp_up_mw": g.ramp_up_mw, "ramp_down_mw": g.ramp_down_mw,
                               "headroom_mw": g.pmax_mw - g.p0_mw, "footroom_mw": g.p0_mw - g.pmin_mw})
    branches = pd.DataFrame({"branch_id": list(b.names), "x_pu": np.abs(b.x_pu),
                             "rate_mw": np.where(np.isfinite(b.rate_mw), b.rate_mw, np.nan),
                             "emergency_mw": np.where(np.isfinite(b.emergency_mw), b.emergency_mw, np.nan)})
    branches["emergency_margin_mw"] = branches["emergency_mw"] - branches["rate_mw"]
    return {"case_intervals": intervals, "case_generators": generators, "case_branches": branches}


def case_suites() -> list[SuiteSpec]:
    """Bus balance plausibility (load within the fleet's limits, no negative bus load), generator
    limits consistent (Pmin ≤ P0 ≤ Pmax, ramps positive), branch data usable."""
    e = load_gx().expectations
    specs = {
        "case_intervals": [
            e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="pmax_mw", column_B="load_mw", or_equal=True),
            e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="load_mw", column_B="pmin_mw", or_equal=True),
            e.ExpectColumnValuesToBeBetween(column="min_bus_load_mw", min_value=0),
            e.ExpectColumnValuesToNotBeNull(column="load_mw"),
        ],
        "case_generators": [
            e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="pmax_mw", column_B="pmin_mw", or_equal=True),
            e.ExpectColumnValuesToBeBetween(column="headroom_mw", min_value=0),
            e.ExpectColumnValuesToBeBetween(column="footroom_mw", min_value=0),
            e.ExpectColumnValuesToBeBetween(column="ramp_up_mw", min_value=0, strict_min=True),
            e.ExpectColumnValuesToBeBetween(column="ramp_down_mw", min_value=0, strict_min=True),
            e.ExpectColumnValuesToBeUnique(column="gen_id"),
        ],
        "case_branches": [
            e.ExpectColumnValuesToBeBetween(column="x_pu", min_value=0, strict_min=True),
            e.ExpectColumnValuesToBeBetween(column="rate_mw", min_value=0, strict_min=True),
            e.ExpectColumnValuesToBeBetween(column="emergency_margin_mw", min_value=0),
            e.ExpectColumnValuesToBeUnique(column="branch_id"),
        ],
    }
    return [SuiteSpec(name, expectations) for name, expectations in specs.items()]
