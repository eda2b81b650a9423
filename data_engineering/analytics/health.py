"""Pole and feeder health per hour or day (`sql/analytics/health.sql`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from data_engineering.analytics.queries import query

Level = Literal["pole", "feeder"]
Period = Literal["hour", "day"]


def health(conn: psycopg.Connection, level: Level, period: Period, start: datetime, end: datetime,
           ids: list[str] | None = None) -> list[dict]:
    """One row per pole (or feeder) and period: completeness, shares outside ANSI C84.1 ranges,
    peak kW and voltage volatility. Read-only: on the caller's connection (the API's pooled one,
    with its statement timeout)."""
    if level not in ("pole", "feeder") or period not in ("hour", "day"):
        raise ValueError(f"level must be pole or feeder and period hour or day, not {level!r} / {period!r}")
    statement = sql.SQL(query("health")).format(group=sql.Identifier(f"{level}_id"))
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(statement, {"period": f"1 {period}", "start": start, "end": end,
                                       "group_ids": ids}).fetchall()
