"""Store a quality gate's result: the run and one row per expectation in PostgreSQL, the Data Docs
HTML in the lake under `quality/<pipeline>/<run id>/`."""

from __future__ import annotations

from datetime import datetime

import orjson
import psycopg

from data_engineering.storage.lake import Lake
from data_engineering.validation.gate import GateResult

CONTENT_TYPES = {".html": "text/html", ".css": "text/css"}


def write_docs(lake: Lake, pipeline: str, result: GateResult) -> str | None:
    """Upload the Data Docs site; returns the key of its index page."""
    if not result.docs:
        return None
    prefix = f"quality/{pipeline}/{result.quality_run_id}/"
    for path, data in result.docs.items():
        lake.put(prefix + path, data, CONTENT_TYPES.get(path[path.rfind("."):], "application/octet-stream"))
    return prefix + "index.html"


def store_quality_run(conn: psycopg.Connection, result: GateResult, pipeline: str, run_key: str,
                      window: tuple[datetime | None, datetime | None], docs_key: str | None) -> None:
    """Upsert the run and replace its expectation rows (idempotent on the quality run id: executions
    that reference it keep their link), in the caller's transaction."""
    failed = len(result.failures)
    conn.execute("INSERT INTO quality_runs (quality_run_id, pipeline, run_key, window_start, window_end, success,"
                 " evaluated, failed, docs_key) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                 " ON CONFLICT (quality_run_id) DO UPDATE SET pipeline = EXCLUDED.pipeline, run_key = EXCLUDED.run_key,"
                 " window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end,"
                 " success = EXCLUDED.success, evaluated = EXCLUDED.evaluated, failed = EXCLUDED.failed,"
                 " docs_key = EXCLUDED.docs_key, created_at = now()",
                 (result.quality_run_id, pipeline, run_key, *window, result.success, len(result.outcomes), failed,
                  docs_key))
    conn.execute("DELETE FROM quality_results WHERE quality_run_id = %s", (result.quality_run_id,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO quality_results (quality_run_id, suite, expectation, column_name, success, element_count,"
            " unexpected_count, unexpected_percent, detail, ordinal) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(result.quality_run_id, o.suite, o.expectation, o.column, o.success, o.element_count, o.unexpected_count,
              o.unexpected_percent, orjson.dumps(o.detail, default=str, option=orjson.OPT_SERIALIZE_NUMPY).decode(), i)
             for i, o in enumerate(result.outcomes)])
