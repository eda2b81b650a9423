"""Write a batch of telemetry into PostgreSQL in one transaction.

COPY into a per-connection staging table, then `INSERT … SELECT … ON CONFLICT DO NOTHING` into the
partitioned table: bulk-load speed with duplicates absorbed on the natural key. The rows that were
new (and so belong in the lake) are told apart from those already stored by their `ingest_batch`.
Dead letters and the lake manifest go in the same transaction, so a batch is durable whole or not
at all.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg import sql

from data_engineering.contracts.spec import Source, stored_columns
from data_engineering.ingestion.decode import DeadLetter
from data_engineering.storage.archive import LakeObjectPlan, plan_objects


@dataclass(frozen=True)
class SourceWrite:
    source: str
    staged: int
    inserted: int
    new_rows: pa.Table

    @property
    def duplicates(self) -> int:
        return self.staged - self.inserted


def pg_array_literals(lists: pa.ChunkedArray | pa.Array) -> pa.Array:
    """list<string> → PostgreSQL array literals (`{"a","b\\"c"}`), null stays null; vectorised."""
    lists = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    items = pc.replace_substring(pc.replace_substring(lists.flatten(), "\\", "\\\\"), '"', '\\"')
    quoted = pc.binary_join_element_wise('"', items, '"', "")
    offsets = pc.subtract(lists.offsets, lists.offsets[0])  # a sliced array's offsets do not start at 0
    rebuilt = pa.ListArray.from_arrays(offsets, quoted, mask=lists.is_null())
    return pc.binary_join_element_wise("{", pc.binary_join(rebuilt, ","), "}", "")


def to_copy_csv(table: pa.Table) -> bytes:
    """CSV for the staging table: lists become PostgreSQL array literals and timestamps epoch
    microseconds (formatting timestamps as text costs more than the rest of the row together)."""
    for i, field in enumerate(table.schema):
        if pa.types.is_list(field.type):
            table = table.set_column(i, field.name, pg_array_literals(table.column(i)))
        elif pa.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()))
    out = io.BytesIO()
    pacsv.write_csv(table, out, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return out.getvalue()


def without_keys(table: pa.Table, keys: pa.Table, key: tuple[str, ...]) -> pa.Table:
    """Rows of `table` whose key is not in `keys`, in their order (joins only the key columns:
    Arrow cannot carry list columns through a join)."""
    indexed = table.select(list(key)).append_column("__row", pa.array(range(table.num_rows), pa.int64()))
    keep = indexed.join(keys, list(key), join_type="left anti")["__row"]
    return table.take(pc.take(keep, pc.sort_indices(keep)))


@cache
def _timestamp_columns(source: Source) -> frozenset[str]:
    return frozenset(f.name for f in stored_columns(source) if f.kind == "timestamp")


def _from_stage(source: Source, column: str) -> sql.Composable:
    """The staged value of `column` as the target type (exact integer arithmetic for timestamps)."""
    if column in _timestamp_columns(source):
        return sql.SQL("(timestamptz 'epoch' + s.{} * interval '1 microsecond')").format(sql.Identifier(column))
    return sql.SQL("s.{}").format(sql.Identifier(column))


class TelemetryWriter:
    """Holds one autocommit connection (each write is an explicit transaction); staging tables and
    covered partition ranges are cached on it."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self._staging: set[str] = set()
        self._covered: set[tuple[str, datetime, datetime]] = set()

    def next_batch_id(self) -> int:
        return self.conn.execute("SELECT nextval('ingest_batch_seq')").fetchone()[0]

    def ensure_partitions(self, source: Source, table: pa.Table) -> None:
        """Partition maintenance (TimescaleDB does this itself), in its own short transaction."""
        if table.num_rows == 0:
            return
        bounds = pc.min_max(pc.floor_temporal(table[source.time_column], unit="hour"))
        span = (source.table, bounds["min"].as_py(), bounds["max"].as_py())
        if span in self._covered:
            return
        with self.conn.transaction():
            self.conn.execute("SELECT lascopf_ensure_partitions(%s, %s, %s)", span)
        self._covered.add(span)

    def write(self, batch_id: int, tables: dict[Source, pa.Table],
              dead_letters: Sequence[DeadLetter]) -> tuple[list[SourceWrite], list[LakeObjectPlan]]:
        """Stage, insert, record dead letters and the lake manifest; commit once."""
        for source, table in tables.items():
            self.ensure_partitions(source, table)
            self._stage(source)
        writes: list[SourceWrite] = []
        objects: list[LakeObjectPlan] = []
        with self.conn.transaction():
            for source, table in tables.items():
                if table.num_rows:
                    write = self._insert(source, table, batch_id)
                    writes.append(write)
                    objects.extend(plan_objects(source, write.new_rows, batch_id))
            self._insert_dead_letters(dead_letters)
            self._insert_manifest(objects)
        return writes, objects

    def _stage(self, source: Source) -> sql.Identifier:
        """A session-lifetime temp table shaped like the target but with timestamps as epoch
        microseconds, created outside any write transaction (a rollback must not take it away
        behind the cache)."""
        name = f"stage_{source.table}"
        if name not in self._staging:
            stage = sql.Identifier(name)
            with self.conn.transaction():
                self.conn.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
                                  .format(stage, sql.Identifier(source.table)))
                for column in sorted(_timestamp_columns(source)):
                    self.conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE bigint USING NULL")
                                      .format(stage, sql.Identifier(column)))
            self._staging.add(name)
        return sql.Identifier(name)

    def _insert(self, source: Source, table: pa.Table, batch_id: int) -> SourceWrite:
        stage = self._stage(source)
        target = sql.Identifier(source.table)
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names)
        values = sql.SQL(", ").join(_from_stage(source, c) for c in table.column_names)
        with self.conn.cursor() as cur:
            with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(stage, columns)) as copy:
                copy.write(to_copy_csv(table))
            cur.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} s ON CONFLICT DO NOTHING").format(
                target, columns, values, stage))
            inserted = cur.rowcount
            new_rows = table
            if inserted < table.num_rows:
                already = self._already_stored(cur, source, stage, batch_id)
                new_rows = without_keys(table, already, source.key)
        return SourceWrite(source.name, table.num_rows, inserted, new_rows)

    @staticmethod
    def _already_stored(cur: psycopg.Cursor, source: Source, stage: sql.Identifier, batch_id: int) -> pa.Table:
        staged = [_from_stage(source, k) for k in source.key]
        match = sql.SQL(" AND ").join(sql.SQL("t.{} = {}").format(sql.Identifier(k), v)
                                      for k, v in zip(source.key, staged, strict=True))
        cur.execute(sql.SQL("SELECT {} FROM {} s JOIN {} t ON {} WHERE t.ingest_batch <> %s").format(
            sql.SQL(", ").join(staged), stage, sql.Identifier(source.table), match,
        ), (batch_id,))
        rows = cur.fetchall()
        schema = pa.schema([pa.field(k, source.record.field(k).arrow_type) for k in source.key])
        return pa.Table.from_pylist([dict(zip(source.key, r, strict=True)) for r in rows], schema=schema)

    def _insert_dead_letters(self, dead_letters: Iterable[DeadLetter]) -> None:
        rows = [(d.source, d.topic, d.partition, d.offset, d.item, d.reason, d.detail, d.payload)
                for d in dead_letters]
        if rows:
            with self.conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO dead_letters (source, topic, kafka_partition, kafka_offset, item, reason, detail,"
                    " payload) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING", rows)

    def _insert_manifest(self, objects: Iterable[LakeObjectPlan]) -> None:
        rows = [(o.key, o.source, o.ingest_batch, o.ts_from, o.ts_to, o.rows.num_rows) for o in objects]
        if rows:
            with self.conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO lake_objects (object_key, source, ingest_batch, ts_from, ts_to, row_count)"
                    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (object_key) DO NOTHING", rows)

    def mark_written(self, keys: Sequence[str]) -> None:
        if keys:
            with self.conn.transaction():
                self.conn.execute(
                    "UPDATE lake_objects SET status = 'written', written_at = now() WHERE object_key = ANY(%s)",
                    (list(keys),))
