"""Sag detection finds every injected sag, exactly, and nothing on clean data."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from data_engineering.analytics.sags import SagRule, detect_sags
from data_engineering.simulation.engine import Disturbance
from data_engineering.storage.database import Database
from tests.analytics.conftest import START, fleet, load

SAGS = (
    Disturbance("sag", 300.0, 8.0, 0.7, pole_id="p-00000"),   # an event on each of its 4 meters
    Disturbance("sag", 900.0, 3.0, 0.5, pole_id="p-00001"),   # too short: not an event
    Disturbance("sag", 1200.0, 20.0, 0.3, pole_id="p-00002"),  # deep
)
END = START + timedelta(seconds=1800)


def events(db: Database) -> pd.DataFrame:
    with db.connect() as conn:
        cur = conn.execute("SELECT meter_id, pole_id, start_ts, end_ts, duration_s, samples, min_vm_pu, severity"
                           " FROM voltage_sag_events ORDER BY meter_id, start_ts")
        return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


def expected(sim, sags=SAGS, rule: SagRule | None = None) -> set[tuple]:  # noqa: ANN001
    rule = rule or SagRule()
    f = sim.fleet
    out = set()
    for d in sags:
        if d.duration_s < rule.min_duration_s:
            continue
        for meter, pole in zip(f.meter_ids, f.meter_pole, strict=True):
            if f.pole_ids[pole] == d.pole_id:
                out.add((meter, START + timedelta(seconds=d.start_s), d.duration_s))
    return out


def test_every_injected_sag_is_found_and_nothing_else(database: Database) -> None:
    sim = fleet(disturbances=SAGS)
    load(database, sim, 1800)
    assert detect_sags(database, START, END) == 8
    found = events(database)
    assert set(zip(found.meter_id, found.start_ts, found.duration_s, strict=True)) == expected(sim)
    assert (found.end_ts - found.start_ts == pd.to_timedelta(found.duration_s, unit="s")).all()
    severity = dict(zip(found.pole_id, found.severity, strict=False))
    assert severity == {"p-00000": "below_range_b", "p-00002": "deep_sag"}


def test_clean_data_has_no_sags(database: Database) -> None:
    load(database, fleet(), 1800, missing_prob=0.01)
    assert detect_sags(database, START, END) == 0


def test_islands_are_never_joined_across_a_missing_sample(database: Database) -> None:
    sim = fleet(disturbances=SAGS[2:])
    load(database, sim, 1800)
    meter = sim.fleet.meter_ids[8]
    with database.transaction() as conn:  # the 5th sample of the 20 s sag never arrived
        conn.execute("DELETE FROM ami_readings WHERE meter_id = %s AND event_ts = %s",
                     (meter, START + timedelta(seconds=1204)))
    detect_sags(database, START, END)
    found = events(database)
    gapped = found[found.meter_id == meter]
    # 4 s before the gap is too short; 15 s after it is its own event
    assert list(zip(gapped.start_ts, gapped.duration_s, strict=True)) == [(START + timedelta(seconds=1205), 15.0)]
    assert len(found) == 4


def test_an_event_cut_by_a_window_is_completed_by_the_overlapping_window(database: Database) -> None:
    sim = fleet(disturbances=SAGS[2:])
    load(database, sim, 1800)
    detect_sags(database, START, START + timedelta(seconds=1210))  # sees 10 s of it
    assert set(events(database).duration_s) == {10.0}
    detect_sags(database, START + timedelta(seconds=1205), END)  # starts mid-event: leaves it alone
    assert set(events(database).duration_s) == {10.0}
    detect_sags(database, START + timedelta(seconds=1100), END)  # the next run's margin covers its start
    found = events(database)
    assert len(found) == 4 and set(found.duration_s) == {20.0}


def test_threshold_and_duration_are_configurable(database: Database) -> None:
    sim = fleet(disturbances=SAGS)
    load(database, sim, 1800)
    rule = SagRule(threshold_pu=0.6, min_duration_s=2.0)
    detect_sags(database, START, END, rule)
    found = events(database)
    assert set(zip(found.meter_id, found.start_ts, found.duration_s, strict=True)) == expected(sim, SAGS[1:], rule)


def test_an_impossible_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid sag rule"):
        SagRule(threshold_pu=1.5)
