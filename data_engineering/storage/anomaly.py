"""Write and read detector versions and their flagged windows (anomaly_models, anomaly_events; sql/017)."""

from __future__ import annotations

from dataclasses import astuple, fields
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from data_engineering.contracts.anomaly import AnomalyEvent, AnomalyModel

_EVENT_COLUMNS = tuple(f.name for f in fields(AnomalyEvent))
_INSERT_EVENT = sql.SQL("INSERT INTO anomaly_events ({cols}) VALUES ({values})"
                        " ON CONFLICT (window_start, target_kind, target_id, model_id, predicted_kind)"
                        " DO UPDATE SET score = EXCLUDED.score").format(
    cols=sql.SQL(", ").join(map(sql.Identifier, _EVENT_COLUMNS)),
    values=sql.SQL(", ").join(sql.Placeholder() * len(_EVENT_COLUMNS)))
_INSERT_MODEL = """
INSERT INTO anomaly_models (model_id, detector, version, train_start, train_end, test_start, test_end, seed,
                            features, metrics, artifact)
SELECT %s, %s, COALESCE(max(version), 0) + 1, %s, %s, %s, %s, %s, %s, %s, %s FROM anomaly_models WHERE detector = %s
RETURNING version
"""


def write_model(conn: psycopg.Connection, model: AnomalyModel) -> int:
    """Store a new version of the detector; returns its version number (one more than the last).
    Two retrains at once would collide on (detector, version) and one would fail: the DAG runs one."""
    return conn.execute(_INSERT_MODEL, (model.model_id, model.detector, model.train_start, model.train_end,
                                        model.test_start, model.test_end, model.seed, list(model.features),
                                        Jsonb(model.metrics), model.artifact, model.detector)).fetchone()[0]


def latest_model(conn: psycopg.Connection, detector: str) -> tuple[AnomalyModel, int] | None:
    """The newest version of the detector, with its artifact, and its version number."""
    row = conn.execute("SELECT model_id, detector, train_start, train_end, test_start, test_end, seed, features,"
                       " metrics, artifact, version FROM anomaly_models WHERE detector = %s"
                       " ORDER BY version DESC LIMIT 1", (detector,)).fetchone()
    if row is None:
        return None
    return AnomalyModel(*row[:7], tuple(row[7]), row[8], row[9]), row[10]


def write_events(conn: psycopg.Connection, events: list[AnomalyEvent]) -> None:
    """Upsert by (window, target, model, kind): scoring a window again rewrites its score. In the
    caller's transaction."""
    with conn.cursor() as cur:
        cur.executemany(_INSERT_EVENT, [astuple(e) for e in events])


def read_events(conn: psycopg.Connection, start: datetime, end: datetime, target_kind: str | None = None,
                limit: int = 10_000) -> list[AnomalyEvent]:
    """Events whose window starts in [start, end), newest first, of one target kind or all."""
    query = sql.SQL("SELECT {} FROM anomaly_events WHERE window_start >= %s AND window_start < %s"
                    " AND (%s::text IS NULL OR target_kind = %s)"
                    " ORDER BY window_start DESC, target_kind, target_id, model_id, predicted_kind LIMIT %s").format(
        sql.SQL(", ").join(map(sql.Identifier, _EVENT_COLUMNS)))
    return [AnomalyEvent(*row) for row in conn.execute(query, (start, end, target_kind, target_kind, limit))]
