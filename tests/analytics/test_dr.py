"""DR baseline and shed on a fixture where every day's load is one known constant per window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from data_engineering.analytics.dr import BaselineRule, dr_estimate, holidays_between, store_day_baselines
from data_engineering.analytics.rollups import refresh_rollups
from data_engineering.storage.database import Database
from tests.analytics.fixtures import insert_readings, install_assets

EVENT_DAY = date(2026, 7, 7)  # a Tuesday; Friday 3 July is Independence Day (observed)
EVENT = (datetime(2026, 7, 7, 16, tzinfo=UTC), datetime(2026, 7, 7, 17, tzinfo=UTC))
RULE = BaselineRule(x_days=2, y_days=4, lookback_days=14)
# kW of pole p-1's meter m-a each day, over 13:00-17:00 UTC (adjustment and event windows)
DAILY_KW = {
    date(2026, 6, 26): 30.0,   # a like day, but not among the 4 most recent
    date(2026, 6, 29): 11.0,
    date(2026, 6, 30): 150.0,  # an earlier DR event day: not a like day
    date(2026, 7, 1): 8.0,
    date(2026, 7, 2): 12.0,
    date(2026, 7, 3): 100.0,   # holiday
    date(2026, 7, 4): 200.0,   # weekend
    date(2026, 7, 5): 200.0,   # weekend
    date(2026, 7, 6): 10.0,
}


def day_rows(day: date, kw_of, seq0: int) -> list[tuple]:  # noqa: ANN001 - minute → kW
    start = datetime(day.year, day.month, day.day, 13, tzinfo=UTC)
    return [(start + timedelta(minutes=k), "m-a", seq0 + k, 240.0, kw_of(k)) for k in range(240)]


@pytest.fixture
def db(database: Database) -> Database:
    install_assets(database)
    rows = []
    for i, (day, kw) in enumerate(sorted(DAILY_KW.items())):
        rows += day_rows(day, lambda _k, kw=kw: kw, 1000 * i)
    insert_readings(database, rows)
    with database.transaction() as conn:
        conn.execute("INSERT INTO dr_events (event_start, event_end) VALUES (%s, %s)",
                     (datetime(2026, 6, 30, 16, tzinfo=UTC), datetime(2026, 6, 30, 17, tzinfo=UTC)))
    return database


def event_day(db: Database, adjust_kw: float, event_kw: float) -> None:
    """Today: `adjust_kw` until 15:00 (the adjustment window is 13:00-15:00), `event_kw` from 16:00."""
    insert_readings(db, day_rows(EVENT_DAY, lambda k: adjust_kw if k < 180 else event_kw, 100_000))
    refresh_rollups(db, datetime(2026, 6, 20, tzinfo=UTC), EVENT[1])


def test_holidays_come_from_the_calendar() -> None:
    assert date(2026, 7, 3) in holidays_between("US", date(2026, 6, 1), date(2026, 7, 7))


def test_baseline_adjustment_and_shed(db: Database) -> None:
    event_day(db, adjust_kw=12.65, event_kw=5.0)
    with db.connect() as conn:
        rows = dr_estimate(conn, *EVENT, RULE, ["p-1"])
    assert len(rows) == 12 and {r["pole_id"] for r in rows} == {"p-1"}
    for r in rows:
        # like days: 6 Jul (10), 2 Jul (12), 1 Jul (8), 29 Jun (11); the highest two: 12 and 11
        assert r["like_days"] == [date(2026, 6, 29), date(2026, 7, 2)] and r["days_used"] == 2
        assert r["baseline_kw"] == pytest.approx(11.5)
        assert r["adjustment_factor"] == pytest.approx(12.65 / 11.5)
        assert r["adjusted_baseline_kw"] == pytest.approx(12.65)
        assert r["actual_kw"] == pytest.approx(5.0)
        assert r["shed_kw"] == pytest.approx(7.65)


def test_adjustment_is_capped(db: Database) -> None:
    event_day(db, adjust_kw=40.0, event_kw=5.0)
    with db.connect() as conn:
        (first, *_) = dr_estimate(conn, *EVENT, RULE, ["p-1"])
    assert first["adjustment_factor"] == pytest.approx(1.2)
    assert first["shed_kw"] == pytest.approx(11.5 * 1.2 - 5.0)


def test_day_baselines_are_stored_per_slot(db: Database) -> None:
    refresh_rollups(db, datetime(2026, 6, 20, tzinfo=UTC), datetime(2026, 7, 7, tzinfo=UTC))
    assert store_day_baselines(db, EVENT_DAY, RULE) == 48  # 13:00-17:00 has data: 48 slots
    with db.connect() as conn:
        rows = conn.execute("SELECT slot, baseline_kw, days_used FROM dr_baselines WHERE pole_id = 'p-1'"
                            " ORDER BY slot").fetchall()
    assert [r[0] for r in rows] == list(range(13 * 12, 17 * 12))
    assert all(r[1] == pytest.approx(11.5) and r[2] == 2 for r in rows)


def test_rule_is_checked() -> None:
    with pytest.raises(ValueError, match="x_days"):
        BaselineRule(x_days=11, y_days=10)
