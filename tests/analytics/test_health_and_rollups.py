"""Rollups and health against values worked out by hand (in plain Python) on a small fixture."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime, timedelta

import pytest

from data_engineering.analytics.health import health
from data_engineering.analytics.rollups import align, refresh_rollups
from data_engineering.storage.database import Database
from tests.analytics.fixtures import insert_readings, install_assets

T0 = datetime(2026, 7, 7, 10, 0, tzinfo=UTC)


def readings() -> list[tuple]:
    """Two hours at 10 s: m-a steady 2 kW at 240 V but seqs 5-8 missing in hour 1 and a 226 V stretch
    (outside Range A, inside B); m-b 1 kW then 3 kW from minute 30, with a 210 V stretch (outside
    both); m-c on a 120 V service; m-d only in hour 2."""
    rows = []
    for k in range(720):
        ts = T0 + timedelta(seconds=10 * k)
        if not 5 <= k <= 8:
            rows.append((ts, "m-a", k, 226.0 if 100 <= k < 112 else 240.0, 2.0))
        rows.append((ts, "m-b", k, 210.0 if 200 <= k < 203 else 241.0, 1.0 if k < 180 else 3.0))
        rows.append((ts, "m-c", k, 119.0 + (k % 3), 5.0))
        if k >= 360:
            rows.append((ts, "m-d", k, 240.0, 0.5))
    return rows


@pytest.fixture
def db(database: Database) -> Database:
    install_assets(database)
    insert_readings(database, readings())
    refresh_rollups(database, T0, T0 + timedelta(hours=2))
    return database


def rows_of(db: Database, query: str, params: tuple = ()) -> list[tuple]:
    with db.connect() as conn:
        return conn.execute(query, params).fetchall()


def test_align_widens_to_whole_buckets() -> None:
    t = datetime(2026, 7, 7, 10, 3, 20, tzinfo=UTC)
    assert align(t, t + timedelta(minutes=3), timedelta(minutes=5)) == (T0, T0 + timedelta(minutes=10))
    assert align(T0, T0 + timedelta(minutes=5), timedelta(minutes=5)) == (T0, T0 + timedelta(minutes=5))


def test_pole_rollups_sum_meter_means_not_samples(db: Database) -> None:
    one = dict(((p, b), (kw, n)) for p, b, kw, n in rows_of(
        db, "SELECT pole_id, bucket, power_kw, readings FROM ami_pole_rollup_1m"))
    assert one[("p-1", T0)] == (pytest.approx(3.0), 6 + 5)  # 2 kW + 1 kW; m-a missed seq 5 in minute 0
    five = dict(((p, b), kw) for p, b, kw in rows_of(db, "SELECT pole_id, bucket, power_kw FROM ami_pole_rollup_5m"))
    assert five[("p-1", T0 + timedelta(minutes=30))] == pytest.approx(5.0)
    assert five[("p-2", T0)] == pytest.approx(5.0)
    total = rows_of(db, "SELECT sum(readings) FROM ami_pole_rollup_5m")[0][0]
    assert total == len(readings())


def test_refresh_is_idempotent(db: Database) -> None:
    def snapshot() -> list[tuple]:  # sums may differ in the last bit with the order rows are read
        return [tuple(round(v, 9) if isinstance(v, float) else v for v in row)
                for row in rows_of(db, "SELECT * FROM ami_meter_rollup_1m ORDER BY meter_id, bucket")]

    before = snapshot()
    refresh_rollups(db, T0 + timedelta(minutes=7, seconds=30), T0 + timedelta(minutes=50))
    assert snapshot() == before


def reference_health(level: str, group: str, hour: int) -> dict:
    """The health figures computed directly from the readings."""
    topology = {"m-a": ("p-1", "f-1"), "m-b": ("p-1", "f-1"), "m-c": ("p-2", "f-1"), "m-d": ("p-3", "f-2")}
    nominal = {"m-a": 240, "m-b": 240, "m-c": 120, "m-d": 240}
    lo, hi = T0 + timedelta(hours=hour), T0 + timedelta(hours=hour + 1)
    mine = [r for r in readings() if lo <= r[0] < hi and topology[r[1]][level == "feeder"] == group]
    meters = sorted({r[1] for r in mine})
    by_meter = {m: [r for r in mine if r[1] == m] for m in meters}
    span = sum(max(r[2] for r in rs) - min(r[2] for r in rs) + 1 for rs in by_meter.values())
    pu = [(r[3] / nominal[r[1]]) for r in mine]
    minute_kw: dict[datetime, float] = {}
    for rs in by_meter.values():
        for minute in {r[0].replace(second=0) for r in rs}:
            kws = [r[4] for r in rs if r[0].replace(second=0) == minute]
            minute_kw[minute] = minute_kw.get(minute, 0.0) + sum(kws) / len(kws)
    return {
        "meters_reporting": len(meters),
        "readings": len(mine),
        "completeness_pct": 100 * len(mine) / span,
        "outside_range_a_pct": 100 * sum(1 for v in pu if not 0.95 <= v < 1.05) / len(pu),
        "outside_range_b_pct": 100 * sum(1 for v in pu if not 0.9167 <= v < 1.0583) / len(pu),
        "peak_kw": max(minute_kw.values()),
        "voltage_volatility_pct": 100 * statistics.mean(
            statistics.stdev(r[3] / nominal[m] for r in rs) for m, rs in by_meter.items()),
    }


@pytest.mark.parametrize(("level", "group"), [("pole", "p-1"), ("pole", "p-2"), ("feeder", "f-1"), ("feeder", "f-2")])
def test_hourly_health_matches_the_readings(db: Database, level: str, group: str) -> None:
    with db.connect() as conn:
        rows = health(conn, level, "hour", T0, T0 + timedelta(hours=2))
    got = {(r[f"{level}_id"], r["period_start"]): r for r in rows}
    for hour in (0, 1):
        if (group, T0 + timedelta(hours=hour)) not in got:
            assert group == "f-2" and hour == 0  # m-d reports only in hour 2
            continue
        row, ref = got[(group, T0 + timedelta(hours=hour))], reference_health(level, group, hour)
        for key, value in ref.items():
            assert row[key] == pytest.approx(value, rel=1e-9, abs=1e-5), (group, hour, key)  # sums of squares: ~1e-8 pu


def test_daily_health_counts_installed_meters(db: Database) -> None:
    with db.connect() as conn:
        (row,) = health(conn, "feeder", "day", T0 - timedelta(hours=10), T0 + timedelta(hours=14), ["f-1"])
    assert (row["meters_reporting"], row["meters_installed"]) == (3, 3)
    assert row["completeness_pct"] == pytest.approx(100 * (3 * 720 - 4) / (3 * 720))
    assert math.isclose(row["peak_kw"], 2 + 3 + 5)


def test_health_refuses_unknown_levels(db: Database) -> None:
    with pytest.raises(ValueError, match="level must be"):
        with db.connect() as conn:
            health(conn, "meter; DROP TABLE meters", "hour", T0, T0)  # type: ignore[arg-type]
