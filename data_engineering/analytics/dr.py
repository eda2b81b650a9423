"""Demand-response baselines and shed estimates (`sql/analytics/dr_estimate.sql`): X-of-Y like
days with holidays and earlier event days left out, and a capped same-day adjustment."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

import holidays
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from data_engineering.analytics.queries import query
from data_engineering.storage.database import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BaselineRule:
    """X of the Y most recent like days, looking back at most `lookback_days`; the same-day
    adjustment uses the `adjust_hours` ending `adjust_lead_hours` before the event, capped at
    ±`adjust_cap` (NYISO/CAISO-style 5-of-10 with a 20 % cap by default)."""

    x_days: int = 5
    y_days: int = 10
    lookback_days: int = 45
    adjust_hours: float = 2.0
    adjust_lead_hours: float = 1.0
    adjust_cap: float = 0.2
    holiday_country: str = "US"

    def __post_init__(self) -> None:
        if not 1 <= self.x_days <= self.y_days <= self.lookback_days:
            raise ValueError(f"need 1 <= x_days <= y_days <= lookback_days, got {self}")
        if self.adjust_hours < 0 or self.adjust_lead_hours < 0 or not 0 <= self.adjust_cap < 1:
            raise ValueError(f"invalid same-day adjustment in {self}")


@cache
def _holidays(country: str, year: int) -> tuple[date, ...]:
    return tuple(sorted(holidays.country_holidays(country, years=year)))


def holidays_between(country: str, first: date, last: date) -> list[date]:
    return [d for year in range(first.year, last.year + 1) for d in _holidays(country, year) if first <= d <= last]


def _params(rule: BaselineRule, event_start: datetime, event_end: datetime, adjust: bool,
            pole_ids: list[str] | None) -> dict:
    if event_end <= event_start:
        raise ValueError("the event window ends before it starts")
    if adjust and rule.adjust_hours > 0:
        adjust_end = event_start - timedelta(hours=rule.adjust_lead_hours)
        adjust_start = adjust_end - timedelta(hours=rule.adjust_hours)
    else:
        adjust_start = adjust_end = event_start
    day = event_start.date()
    return {"event_start": event_start, "event_end": event_end, "adjust_start": adjust_start,
            "adjust_end": adjust_end, "adjust_cap": rule.adjust_cap, "x_days": rule.x_days, "y_days": rule.y_days,
            "lookback_days": rule.lookback_days, "pole_ids": pole_ids,
            "holidays": holidays_between(rule.holiday_country, day - timedelta(days=rule.lookback_days), day)}


def dr_estimate(conn: psycopg.Connection, event_start: datetime, event_end: datetime,
                rule: BaselineRule = BaselineRule(), pole_ids: list[str] | None = None) -> list[dict]:
    """Per pole and 5-minute slot of the event: baseline, adjustment factor, adjusted baseline,
    actual and shed kW, and the like days used. Read-only, on the caller's connection."""
    with conn.cursor(row_factory=dict_row) as cur:
        params = _params(rule, event_start, event_end, True, pole_ids)
        return cur.execute(query("dr_estimate"), params).fetchall()


def store_day_baselines(db: Database, day: date, rule: BaselineRule = BaselineRule()) -> int:
    """Unadjusted baselines for every 5-minute slot of `day` (UTC), upserted into dr_baselines:
    what the day looks like without an event, published before it starts."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    statement = sql.SQL(
        "INSERT INTO dr_baselines (pole_id, baseline_day, slot, baseline_kw, days_used)"
        " SELECT pole_id, %(day)s::date, (extract(epoch FROM slot_ts - %(event_start)s) / 300)::integer,"
        " baseline_kw, days_used FROM ({estimate}) estimate"
        " ON CONFLICT (pole_id, baseline_day, slot) DO UPDATE SET baseline_kw = EXCLUDED.baseline_kw,"
        " days_used = EXCLUDED.days_used").format(estimate=sql.SQL(query("dr_estimate")))
    with db.transaction() as conn:
        params = _params(rule, start, start + timedelta(days=1), False, None)
        n = conn.execute(statement, {"day": day, **params}).rowcount
    log.info("DR baselines for %s (%d of %d like days): %d pole-slots", day.isoformat(), rule.x_days, rule.y_days, n)
    return n

