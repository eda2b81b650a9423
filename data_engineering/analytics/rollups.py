"""Keep the per-meter 1- and 5-minute rollups current for a window. On TimescaleDB they are
continuous aggregates, refreshed here on demand (its policy also refreshes them every minute);
natively they are tables recomputed by upsert over whole buckets, so reruns and overlapping
windows replace rows instead of adding to them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from psycopg import sql

from data_engineering.analytics.queries import has_timescaledb, query
from data_engineering.storage.database import Database

log = logging.getLogger(__name__)
ROLLUPS = {"ami_meter_rollup_1m": timedelta(minutes=1), "ami_meter_rollup_5m": timedelta(minutes=5)}
_EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # the time_bucket origin both engines use


def align(start: datetime, end: datetime, width: timedelta) -> tuple[datetime, datetime]:
    """[start, end) widened to whole buckets of `width` (plain datetimes out, whatever came in:
    Airflow hands over pendulum ones)."""
    start, end = (datetime.fromtimestamp(t.timestamp(), UTC) for t in (start, end))
    lo = start - (start - _EPOCH) % width
    hi = end if (end - _EPOCH) % width == timedelta(0) else end - (end - _EPOCH) % width + width
    return lo, hi


def refresh_rollups(db: Database, start: datetime, end: datetime) -> dict[str, int]:
    """Refresh every rollup for the buckets touching [start, end); rows written per rollup (the
    continuous-aggregate path reports -1: TimescaleDB does not say)."""
    counts: dict[str, int] = {}
    with db.connect(autocommit=True) as conn:
        timescale = has_timescaledb(conn)
        for table, width in ROLLUPS.items():
            lo, hi = align(start, end, width)
            if timescale:  # CALL refresh_continuous_aggregate refuses to run inside a transaction
                conn.execute("CALL refresh_continuous_aggregate(%s::regclass, %s, %s)", (table, lo, hi))
                counts[table] = -1
                continue
            statement = sql.SQL(query("refresh_meter_rollup")).format(
                table=sql.Identifier(table), rows=sql.Identifier(f"{table}_rows"))
            with conn.transaction():
                counts[table] = conn.execute(statement, {"start": lo, "end": hi}).rowcount
    log.info("rollups refreshed for %s → %s: %s", start.isoformat(), end.isoformat(), counts)
    return counts
