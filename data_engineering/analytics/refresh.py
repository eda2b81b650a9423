"""Refresh the AMI analytics tables for a window: pole rollups (1 and 5 minutes), voltage sag
events, demand-response baselines. Every statement is an upsert, so a rerun is safe."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from psycopg import sql

from data_engineering.storage.database import Database
from data_engineering.storage.migrations import SQL_DIR

log = logging.getLogger(__name__)
ANALYTICS_DIR = SQL_DIR / "analytics"
ROLLUPS = (("ami_pole_rollup_1m", "1 minute"), ("ami_pole_rollup_5m", "5 minutes"))


@cache
def query(name: str) -> str:
    return (ANALYTICS_DIR / f"{name}.sql").read_text()


@dataclass(frozen=True)
class SagRule:
    threshold_pu: float = 0.9
    min_duration_s: float = 5.0
    sample_s: float = 1.0


def refresh_rollups(db: Database, start: datetime, end: datetime) -> dict[str, int]:
    counts = {}
    with db.transaction() as conn:
        for table, bucket in ROLLUPS:
            statement = sql.SQL(query("refresh_pole_rollups")).format(table=sql.Identifier(table))
            counts[table] = conn.execute(statement, {"bucket": bucket, "start": start, "end": end}).rowcount
    log.info("rollups refreshed for %s → %s: %s", start.isoformat(), end.isoformat(), counts)
    return counts


def detect_sags(db: Database, start: datetime, end: datetime, rule: SagRule = SagRule()) -> int:
    with db.transaction() as conn:
        n = conn.execute(query("detect_voltage_sags"), {"start": start, "end": end, **rule.__dict__}).rowcount
    log.info("voltage sags in %s → %s (< %.2f pu for >= %.0f s): %d events", start.isoformat(), end.isoformat(),
             rule.threshold_pu, rule.min_duration_s, n)
    return n


def compute_dr_baselines(db: Database, day: date, x_days: int = 5, y_days: int = 10) -> int:
    with db.transaction() as conn:
        n = conn.execute(query("compute_dr_baselines"), {"day": day, "x_days": x_days, "y_days": y_days}).rowcount
    log.info("DR baselines for %s (%d of %d like days): %d pole-slots", day.isoformat(), x_days, y_days, n)
    return n


__all__ = ["ANALYTICS_DIR", "SagRule", "compute_dr_baselines", "detect_sags", "refresh_rollups"]
