"""Expectation suites. Column-level checks come from the record contracts (`RecordSpec`: required,
bounds, enums), described once; the physics (voltage and frequency bands, power factor, per-meter
sequence order, balance and limit consistency of a case) is added per suite, and so are the faults
real meters show (values stuck or dead at ~0, readings missing, holes in time). Those checks need
derived columns (power factor, sequence step, run lengths, completeness, gaps): `prepare_*` adds them
to the batch, vectorised per meter or element (batches hold about a million rows)."""

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
    nominal_voltage_v: float = 240.0  # the phase points' voltages are referred to it
    voltage_band_pu: tuple[float, float] = (0.9, 1.1)
    voltage_mostly: float = 0.95
    frequency_band_hz: float = 0.5
    frequency_mostly: float = 0.999
    scada_voltage_band_pu: tuple[float, float] = (0.9, 1.1)
    # Stuck: this many identical readings in a row (or |value| below near-zero: a dead sensor).
    flatline_readings: int = 10
    flatline_mostly: float = 0.99
    near_zero_kw: float = 0.01
    near_zero_mw: float = 0.001
    # Share of the readings its cadence promises that a meter (a bus: its meters) delivers.
    completeness_min: float = 0.9
    completeness_mostly: float = 0.95
    # Largest holes: seconds and seq steps per meter, seconds per SCADA element (historian: 5 min).
    max_gap_s: float = 300.0
    max_seq_gap: int = 300
    scada_max_gap_s: float = 600.0
    # |P| ≤ V·I per phase, up to this share of V·I plus an absolute allowance (the meters' noise).
    phase_power_tolerance: float = 0.02
    phase_power_tolerance_kw: float = 0.05


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


def run_length(keys: pd.Series, values: pd.Series) -> pd.Series:
    """Length of the run of equal `values` (within one key) that each row ends; rows ordered by key,
    then time. Vectorised: a new run starts where the key or the value changes."""
    starts = keys.ne(keys.shift()) | values.ne(values.shift())
    return values.groupby(starts.cumsum()).cumcount() + 1


def stuck_runs(keys: pd.Series, values: pd.Series, near_zero: float) -> tuple[pd.Series, pd.Series]:
    """`(flatline_run, zero_run)`: runs of one identical value away from zero (a frozen register)
    and runs with |value| < `near_zero` (a dead sensor reading ~0), each 0 on the other's rows."""
    dead = values.abs() < near_zero
    return (run_length(keys, values).where(~dead, 0), run_length(keys, dead).where(dead, 0))


def gap_seconds(keys: pd.Series, ts: pd.Series) -> pd.Series:
    """Seconds since the key's previous row (NaN on its first)."""
    return ts.groupby(keys).diff().dt.total_seconds()


def completeness(frame: pd.DataFrame, seq_step: pd.Series, gap_s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Per meter and per bus (its meters pooled): readings delivered over readings expected in the
    batch's window. Expected comes from the meter's own cadence, median seq step over median time
    step, so dropped readings do not slow it down; a meter with one reading takes the batch's median."""
    by_meter = pd.DataFrame({"meter_id": frame["meter_id"], "seq_step": seq_step, "gap_s": gap_s,
                             "bus_id": frame["bus_id"]}).groupby("meter_id")
    meters = by_meter.agg(seq_step=("seq_step", "median"), gap_s=("gap_s", "median"),
                          delivered=("meter_id", "size"), bus_id=("bus_id", "first"))
    rate = meters["seq_step"] / meters["gap_s"].where(meters["gap_s"] > 0)
    span_s = (frame["event_ts"].max() - frame["event_ts"].min()).total_seconds()
    meters["expected"] = 1 + span_s * rate.fillna(rate.median()).fillna(0.0)
    buses = meters.groupby("bus_id")[["delivered", "expected"]].sum()
    share = (meters["delivered"] / meters["expected"]).clip(upper=1.0)
    bus_share = (buses["delivered"] / buses["expected"]).clip(upper=1.0)
    return frame["meter_id"].map(share), frame["bus_id"].map(bus_share)


def prepare_ami(frame: pd.DataFrame, limits: QualityLimits | None = None) -> pd.DataFrame:
    """Adds `vm_pu`, `power_factor` (P / |S|, signed), `seq_step` (each reading's seq minus the
    meter's previous one in event-time order: ≥ 1 when seq increases with time), `gap_s`, the stuck
    runs of power (`power_flatline_run`, `power_zero_run`) and voltage (`voltage_flatline_run`), and
    `meter_completeness` / `bus_completeness`."""
    limits = limits or QualityLimits()
    ordered = frame.sort_values(["meter_id", "event_ts", "seq"], kind="stable")
    meter = ordered["meter_id"]
    apparent = np.hypot(ordered["power_kw"], ordered["reactive_kvar"].fillna(0.0))
    seq_step = ordered.groupby("meter_id")["seq"].diff()
    gap_s = gap_seconds(meter, ordered["event_ts"])
    power_flatline, power_zero = stuck_runs(meter, ordered["power_kw"], limits.near_zero_kw)
    meter_share, bus_share = completeness(ordered, seq_step, gap_s)
    return ordered.assign(
        vm_pu=ordered["voltage_v"] / ordered["nominal_voltage_v"],
        power_factor=np.where(apparent > 0, ordered["power_kw"] / apparent.where(apparent > 0), 1.0),
        seq_step=seq_step, gap_s=gap_s, power_flatline_run=power_flatline, power_zero_run=power_zero,
        voltage_flatline_run=run_length(meter, ordered["voltage_v"]),
        meter_completeness=meter_share, bus_completeness=bus_share,
    )


def prepare_scada(frame: pd.DataFrame, limits: QualityLimits | None = None) -> pd.DataFrame:
    """Adds `gap_s` per element and, for loads and generators (whose `p_mw` is a measurement that
    moves), `flatline_run`; `zero_run` for loads only (a unit at 0 MW is offline, not dead)."""
    limits = limits or QualityLimits()
    ordered = frame.sort_values(["element_type", "element_id", "ts"], kind="stable")
    element = ordered["element_type"].astype(str) + "/" + ordered["element_id"].astype(str)
    flatline, zero = stuck_runs(element, ordered["p_mw"], limits.near_zero_mw)
    moving = ordered["element_type"].isin(["load", "generator"])
    return ordered.assign(gap_s=gap_seconds(element, ordered["ts"]), flatline_run=flatline.where(moving),
                          zero_run=zero.where(ordered["element_type"] == "load"))


def prepare_phases(frame: pd.DataFrame, limits: QualityLimits | None = None) -> pd.DataFrame:
    """Adds, per phase x: `vm_x_pu` and `p_excess_x_kw`, how far |P| exceeds V·I (kW) beyond
    the relative tolerance: physics says it never does, noise aside."""
    limits = limits or QualityLimits()
    derived = {}
    for x in "abc":
        v, i = frame[f"v_{x}_v"], frame[f"i_{x}_a"]
        derived[f"vm_{x}_pu"] = v / limits.nominal_voltage_v
        derived[f"p_excess_{x}_kw"] = frame[f"p_{x}_kw"].abs() - v * i / 1000.0 * (1 + limits.phase_power_tolerance)
    return frame.assign(**derived)


def band_expectations(limits: QualityLimits, voltage_columns: tuple[str, ...],
                      band_pu: tuple[float, float] | None = None) -> list:
    """Voltage (pu) within the band (the AMI one unless given) and frequency within the nominal ±
    band, each `mostly`: a sag is data, not an error."""
    e = load_gx().expectations
    lo, hi = band_pu or limits.voltage_band_pu
    f0, df = limits.nominal_frequency_hz, limits.frequency_band_hz
    return [*(e.ExpectColumnValuesToBeBetween(column=c, min_value=lo, max_value=hi, mostly=limits.voltage_mostly)
              for c in voltage_columns),
            e.ExpectColumnValuesToBeBetween(column="freq_hz", min_value=f0 - df, max_value=f0 + df,
                                            mostly=limits.frequency_mostly)]


def phase_suite(spec: RecordSpec, limits: QualityLimits) -> SuiteSpec:
    """The contract, the voltage and frequency bands, |P| ≤ |V·I| per phase and one row per point and time."""
    e = load_gx().expectations
    return SuiteSpec("phase_measurements", [
        *contract_expectations(spec),
        *band_expectations(limits, tuple(f"vm_{x}_pu" for x in "abc")),
        *(e.ExpectColumnValuesToBeBetween(column=f"p_excess_{x}_kw", max_value=limits.phase_power_tolerance_kw)
          for x in "abc"),
        e.ExpectCompoundColumnsToBeUnique(column_list=["point_kind", "point_id", "ts"]),
        e.ExpectTableRowCountToBeBetween(min_value=1),
    ])


def stuck_expectations(limits: QualityLimits, columns: tuple[str, ...]) -> list:
    """Runs shorter than `flatline_readings`, `mostly` so a brief real plateau passes."""
    e = load_gx().expectations
    return [e.ExpectColumnValuesToBeBetween(column=c, max_value=limits.flatline_readings - 1,
                                            mostly=limits.flatline_mostly) for c in columns]


def gap_expectation(column: str, limit: float) -> object:
    """Every gap within the limit: one hole is enough to fail, so no `mostly`. Per row rather than
    the column's max, so a batch with one reading per meter (all gaps null) passes."""
    return load_gx().expectations.ExpectColumnValuesToBeBetween(column=column, max_value=limit)


def ami_suite(spec: RecordSpec, limits: QualityLimits) -> SuiteSpec:
    e = load_gx().expectations
    critical = ("event_ts", "meter_id", "pole_id", "seq", "voltage_v", "power_kw")
    expectations = contract_expectations(spec, critical + ("current_a", "reactive_kvar", "freq_hz"))
    expectations += [
        e.ExpectColumnValuesToNotBeNull(column="bus_id"),  # every meter is in the asset model
        *band_expectations(limits, ("vm_pu",)),
        e.ExpectColumnValuesToBeBetween(column="power_factor", min_value=-1.0, max_value=1.0),
        e.ExpectColumnValuesToBeBetween(column="seq_step", min_value=1, max_value=limits.max_seq_gap),
        e.ExpectCompoundColumnsToBeUnique(column_list=["meter_id", "seq"]),
        e.ExpectTableRowCountToBeBetween(min_value=1),
        *stuck_expectations(limits, ("power_flatline_run", "power_zero_run", "voltage_flatline_run")),
        *(e.ExpectColumnValuesToBeBetween(column=c, min_value=limits.completeness_min,
                                          mostly=limits.completeness_mostly)
          for c in ("meter_completeness", "bus_completeness")),
        gap_expectation("gap_s", limits.max_gap_s),
    ]
    return SuiteSpec("ami_readings", expectations)


def scada_suite(spec: RecordSpec, limits: QualityLimits) -> SuiteSpec:
    e = load_gx().expectations
    return SuiteSpec("scada_measurements", [*contract_expectations(spec),
        *band_expectations(limits, ("vm_pu",), limits.scada_voltage_band_pu),
        e.ExpectCompoundColumnsToBeUnique(column_list=["element_type", "element_id", "ts"]),
        e.ExpectTableRowCountToBeBetween(min_value=1),
        *stuck_expectations(limits, ("flatline_run", "zero_run")),
        gap_expectation("gap_s", limits.scada_max_gap_s),
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
