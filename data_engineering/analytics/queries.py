"""The analytics SQL in `sql/analytics/`, read once, and the engine it runs on."""

from __future__ import annotations

from functools import cache

import psycopg

from data_engineering.storage.migrations import SQL_DIR

ANALYTICS_DIR = SQL_DIR / "analytics"


@cache
def query(name: str) -> str:
    return (ANALYTICS_DIR / f"{name}.sql").read_text()


def has_timescaledb(conn: psycopg.Connection) -> bool:
    return bool(conn.execute("SELECT lascopf_has_timescaledb()").fetchone()[0])

