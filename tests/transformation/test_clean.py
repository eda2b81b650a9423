"""Cleaning a window by event time: each kind of defect is counted and handled."""

from __future__ import annotations

import numpy as np
import pandas as pd

from data_engineering.transformation.bus_load import ami_bus_load, observed_bus_load
from data_engineering.transformation.clean import clean_ami

INTERVAL = pd.Timedelta(minutes=5)
T0 = pd.Timestamp("2026-11-20T12:00:00Z")


def _readings(meters: int = 3, seconds: int = 900) -> pd.DataFrame:
    rows = []
    for m in range(meters):
        for s in range(0, seconds, 10):
            ts = T0 + pd.Timedelta(seconds=s)
            rows.append({"event_ts": ts, "meter_id": f"m{m}", "pole_id": "p0", "seq": s // 10,
                         "voltage_v": 240.0, "current_a": 5.0, "power_kw": 1.0 + m, "reactive_kvar": 0.2,
                         "freq_hz": 60.0, "received_ts": ts + pd.Timedelta(seconds=5), "bus_id": 2 + m % 2,
                         "nominal_voltage_v": 240.0})
    return pd.DataFrame(rows)


def test_clean_window_counts_and_aggregates() -> None:
    frame = _readings()
    cleaned, report = clean_ami(frame, INTERVAL, pd.Timedelta(seconds=60))
    assert report.readings == len(frame) and report.duplicates == report.out_of_order == report.late == 0
    assert report.incomplete_intervals == [] and report.gaps_filled == 0
    assert len(cleaned) == 3 * 3
    np.testing.assert_allclose(cleaned.groupby("meter_id")["p_mw"].mean().to_numpy(), [0.001, 0.002, 0.003])
    bus = ami_bus_load(cleaned)
    np.testing.assert_allclose(bus[2].to_numpy(), 0.004)  # meters 0 and 2 on bus 2


def test_defects_are_counted_and_repaired() -> None:
    frame = _readings()
    duplicate = frame.iloc[[5]]
    late = frame.index[(frame.meter_id == "m1") & (frame.seq == 7)]
    frame.loc[late, "received_ts"] = frame.loc[late, "event_ts"] + pd.Timedelta(minutes=10)
    spike = frame.index[(frame.meter_id == "m2") & (frame.seq == 40)]
    frame.loc[spike, "power_kw"] = 500.0
    gap = (frame.meter_id == "m0") & (frame.seq >= 30) & (frame.seq < 60)  # m0 silent for the middle interval
    unknown = frame.iloc[[0]].assign(meter_id="ghost", bus_id=np.nan)
    trailing = (frame.event_ts >= T0 + pd.Timedelta(minutes=10)) & (frame.seq % 3 != 0)  # last interval thin
    frame = pd.concat([frame[~gap & ~trailing], duplicate, unknown]).sample(frac=1.0, random_state=1)
    cleaned, report = clean_ami(frame, INTERVAL, pd.Timedelta(seconds=60), min_completeness=0.6)
    assert report.duplicates == 1 and report.unknown_meters == 1 and report.late == 1
    assert report.out_of_order >= 1  # the late reading arrived after its successors
    assert report.outliers == 1
    assert report.incomplete_intervals == [(T0 + pd.Timedelta(minutes=10)).isoformat()]
    assert report.gaps_filled == 1
    m0 = cleaned[cleaned.meter_id == "m0"].set_index("interval_start")["p_mw"]
    assert len(m0) == 2 and np.allclose(m0, 0.001)
    assert np.allclose(cleaned[cleaned.meter_id == "m2"]["p_mw"], 0.003)  # the spike left out


def test_observed_bus_load_prefers_scada_and_expands_meters_elsewhere() -> None:
    index = pd.date_range(T0, periods=3, freq=INTERVAL)
    ami = pd.DataFrame({2: [0.01, 0.01, 0.01], 3: [0.02, 0.02, 0.02]}, index=index)
    scada = pd.DataFrame({2: [5.0, 5.0, np.nan], 3: [np.nan, 8.0, 8.0]}, index=index)
    observed, factors = observed_bus_load(scada, ami)
    assert factors.to_dict() == {2: 500.0, 3: 400.0}
    np.testing.assert_allclose(observed[2], [5.0, 5.0, 5.0])
    np.testing.assert_allclose(observed[3], [8.0, 8.0, 8.0])
