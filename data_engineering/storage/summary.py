"""Row counts and time spans of the telemetry tables, for the CLI summary."""

from __future__ import annotations

from psycopg import sql

from data_engineering.storage.database import Database

TABLES = (("ami_readings", "event_ts"), ("scada_measurements", "ts"), ("weather_observations", "ts"),
          ("market_prices", "ts"), ("topology_events", "ts"), ("dead_letters", "dead_lettered_at"),
          ("lake_objects", "created_at"))


def telemetry_summary(db: Database) -> list[tuple]:
    rows = []
    with db.connect(autocommit=True) as conn:
        for table, time_col in TABLES:
            t = sql.Identifier(time_col)
            rows.append((table, *conn.execute(sql.SQL("SELECT count(*), min({}), max({}) FROM {}").format(
                t, t, sql.Identifier(table))).fetchone()))
    return rows


def voltage_events(db: Database) -> tuple[int, int]:
    """Readings flagged as sags or swells, and the meters they came from."""
    with db.connect(autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*), count(DISTINCT meter_id) FROM ami_readings"
            " WHERE quality_flags && %s::text[]", (["voltage_sag", "voltage_swell"],)).fetchone()
