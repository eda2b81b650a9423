"""Archive stored telemetry rows to the lake as Parquet, partitioned `source=…/date=…/hour=…`.

Objects are named by ingest batch, which the database hands out, so the lake manifest
(`lake_objects`) can be written in the same transaction as the rows and any object a crashed worker
did not finish is rebuilt from the database: the lake holds exactly the stored rows.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from psycopg import sql

from data_engineering.contracts.spec import Source, stored_arrow_schema
from data_engineering.storage.lake import Lake

log = logging.getLogger(__name__)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class LakeObjectPlan:
    key: str
    source: str
    ingest_batch: int
    ts_from: datetime
    ts_to: datetime
    rows: pa.Table


def object_key(source: str, hour: datetime, ingest_batch: int) -> str:
    return f"source={source}/date={hour:%Y-%m-%d}/hour={hour:%H}/batch-{ingest_batch:012d}.parquet"


def plan_objects(source: Source, rows: pa.Table, ingest_batch: int) -> list[LakeObjectPlan]:
    """One object per event-time hour the rows fall in."""
    if rows.num_rows == 0:
        return []
    hours = pc.floor_temporal(rows[source.time_column], unit="hour")
    plans = []
    for hour in pc.unique(hours).to_pylist():
        part = rows.filter(pc.equal(hours, pa.scalar(hour, hours.type)))
        plans.append(LakeObjectPlan(object_key(source.name, hour, ingest_batch), source.name, ingest_batch,
                                    hour, hour + HOUR, part))
    return plans


def to_parquet(rows: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(rows, out, compression="zstd")
    return out.getvalue()


def write_objects(lake: Lake, plans: list[LakeObjectPlan]) -> None:
    for plan in plans:
        lake.put(plan.key, to_parquet(plan.rows), content_type="application/vnd.apache.parquet")


def read_source(lake: Lake, source: str, columns: list[str] | None = None) -> pa.Table:
    """Every archived row of a source (all its objects, in key order); `columns` to read fewer."""
    tables = [pq.read_table(io.BytesIO(lake.get(key)), columns=columns) for key in lake.list(f"source={source}/")]
    return pa.concat_tables(tables) if tables else pa.table({})


def reconcile_pending(conn: psycopg.Connection, lake: Lake, sources: dict[str, Source]) -> list[str]:
    """Rebuild the objects of batches whose worker died after committing rows but before writing (or
    confirming) their lake object; `conn` is in autocommit mode. Rewriting an object is harmless."""
    pending = conn.execute(
        "SELECT object_key, source, ingest_batch, ts_from, ts_to, row_count FROM lake_objects"
        " WHERE status = 'pending' ORDER BY ingest_batch").fetchall()
    rebuilt = []
    for key, source_name, batch, ts_from, ts_to, row_count in pending:
        source = sources[source_name]
        rows = _stored_rows(conn, source, batch, ts_from, ts_to)
        if rows.num_rows != row_count:
            log.error("lake object %s: manifest says %d rows, database has %d", key, row_count, rows.num_rows)
        lake.put(key, to_parquet(rows), content_type="application/vnd.apache.parquet")
        with conn.transaction():
            conn.execute("UPDATE lake_objects SET status = 'written', written_at = now() WHERE object_key = %s",
                         (key,))
        rebuilt.append(key)
        log.info("rebuilt pending lake object %s (%d rows)", key, rows.num_rows)
    return rebuilt


def _stored_rows(conn: psycopg.Connection, source: Source, batch: int, ts_from: datetime,
                 ts_to: datetime) -> pa.Table:
    schema = stored_arrow_schema(source)
    time_col = sql.Identifier(source.time_column)
    query = sql.SQL("SELECT {} FROM {} WHERE ingest_batch = %s AND {} >= %s AND {} < %s").format(
        sql.SQL(", ").join(sql.Identifier(n) for n in schema.names), sql.Identifier(source.table),
        time_col, time_col)
    with conn.cursor() as cur:
        cur.execute(query, (batch, ts_from, ts_to))
        rows = cur.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in schema.names]
    return pa.Table.from_arrays([pa.array(list(c), f.type) for c, f in zip(columns, schema, strict=True)],
                                schema=schema)
