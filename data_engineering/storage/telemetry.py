"""Write a batch of telemetry into PostgreSQL in one transaction.

COPY (binary, encoded from Arrow by pgpq: nothing is formatted as text here or parsed as text by
the server) into a per-connection staging table, then `INSERT … SELECT` into the partitioned table:
bulk-load speed, one row per natural key. A natural key without the time column (a meter's
`(meter_id, seq)`) is claimed in the source's key table, so a re-send with another event time cannot
land in another partition; in the common case that takes plain INSERTs (in-batch repeats set aside
in Arrow, keys already claimed found by index probes), otherwise one ON CONFLICT statement. The
staged rows that did not go in (usually none) are classified: equal content is a re-send (absorbed),
other content a `conflicting_duplicate` (dead-lettered, the stored version found by the same key);
the rest are new and belong in the lake. Dead letters and the lake manifest go in the same
transaction, so a batch is durable whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime

import numpy as np
import orjson
import pgpq
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql
from psycopg.types.json import Jsonb

from data_engineering.contracts.dead_letter import DeadLetter
from data_engineering.contracts.spec import Source
from data_engineering.storage.archive import LakeObjectPlan, plan_objects

STAGE_ROW = "stage_row"  # the staged row's position in the batch's table


@dataclass(frozen=True)
class Conflict:
    """A staged row whose natural key is stored with other content."""

    row: int  # position in the table given to `write`
    natural_key: dict
    detail: str


@dataclass(frozen=True)
class SourceWrite:
    source: str
    staged: int
    inserted: int
    new_rows: pa.Table
    conflicts: list[Conflict] = dataclass_field(default_factory=list)

    @property
    def duplicates(self) -> int:
        """Re-sends absorbed: staged rows that were neither new nor in conflict."""
        return self.staged - self.inserted - len(self.conflicts)


# Turns a source's conflicts into dead letters (the ingest worker knows each row's Kafka origin).
ConflictLetters = Callable[[Source, pa.Table, list[Conflict]], list[DeadLetter]]


def conflict_letters_from_rows(source: Source, table: pa.Table, conflicts: list[Conflict]) -> list[DeadLetter]:
    """Dead letters for callers without Kafka coordinates (file loads, back-fills): the row itself."""
    rows = table.take([c.row for c in conflicts]).to_pylist()
    return [DeadLetter(source.name, source.topic, -1, int(row["ingest_batch"]), c.row, "conflicting_duplicate",
                       c.detail, orjson.dumps({k: row[k] for k in source.record.names}, default=str),
                       natural_key=c.natural_key)
            for c, row in zip(conflicts, rows, strict=True)]


def copy_binary(table: pa.Table) -> Iterator[bytes]:
    """The table in PostgreSQL's binary COPY format, batch by batch (Arrow types map one to one onto
    the stored columns': timestamptz, text, bigint, double precision, boolean, text[])."""
    encoder = pgpq.ArrowToPostgresBinaryEncoder(table.schema)
    yield encoder.write_header()
    for batch in table.to_batches():
        yield encoder.write_batch(batch)
    yield encoder.finish()


@contextmanager
def _index_probes(cur: psycopg.Cursor) -> Iterator[None]:
    """Join a few staged rows to a large table by index probes (nested loops): without statistics
    on the staging table the planner may pick a hash join that reads the whole large table."""
    cur.execute("SET LOCAL enable_hashjoin = off")
    cur.execute("SET LOCAL enable_mergejoin = off")
    yield  # an error aborts the transaction, which takes the settings with it
    cur.execute("SET LOCAL enable_hashjoin = on")
    cur.execute("SET LOCAL enable_mergejoin = on")


def _insert_all_but(source: Source, stage: sql.Identifier, table: str, columns: Sequence[str]) -> sql.Composable:
    """A plain INSERT of the staged rows but those listed (the parameter)."""
    return sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} s WHERE NOT s.{} = ANY(%s::bigint[])").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.SQL(", ").join(_from_stage(c) for c in columns), stage, sql.Identifier(STAGE_ROW))


def _repeats(table: pa.Table, key: Sequence[str]) -> list[int]:
    """Positions of the rows whose natural key an earlier row of the same table has."""
    indexed = table.select(list(key)).append_column("__row", pa.array(np.arange(table.num_rows)))
    first = indexed.group_by(list(key), use_threads=False).aggregate([("__row", "min")])["__row_min"]
    if len(first) == table.num_rows:
        return []
    return np.setdiff1d(np.arange(table.num_rows), first.to_numpy(), assume_unique=True).tolist()


def _insert_statement(source: Source, stage: sql.Identifier, columns: Sequence[str]) -> sql.Composable:
    """Insert the staged rows (first of each key, in staged order) and return how many went in and
    the positions of those that did not. With a key table, only rows matching this batch's claim (same
    key, same time) are inserted; the claims join as a CTE, never the whole key table."""
    names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    values = sql.SQL(", ").join(_from_stage(c) for c in columns)
    row = sql.Identifier(STAGE_ROW)
    ctes, claimed = [], sql.SQL("")
    if source.key_table:
        ctes.append(sql.SQL("claimed AS ({})").format(_claim_keys(source, stage)))
        claimed = sql.SQL(" JOIN claimed k ON {}").format(_match(source, "k", (*source.key, source.time_column)))
    ctes.append(sql.SQL("went_in AS (INSERT INTO {} ({}) SELECT {} FROM {} s{} ORDER BY s.{} ON CONFLICT DO NOTHING"
                        " RETURNING {})").format(sql.Identifier(source.table), names, values, stage, claimed, row,
                                                 sql.SQL(", ").join(sql.Identifier(k) for k in source.stored_key)))
    stored_key = sql.SQL(", ").join(_from_stage(k) for k in source.stored_key)
    return sql.SQL(
        "WITH {ctes} SELECT c.n, CASE WHEN c.n = %(n)s THEN '{{}}'::bigint[] ELSE ("
        " SELECT array_agg(x.{row} ORDER BY x.{row}) FROM ("
        "  SELECT s.{row}, w.{probe} IS NOT NULL AND s.{row} = min(s.{row}) OVER (PARTITION BY {stored_key}) AS took"
        "  FROM {stage} s LEFT JOIN went_in w ON {match}) x WHERE NOT x.took) END"
        " FROM (SELECT count(*) AS n FROM went_in) c").format(
        ctes=sql.SQL(", ").join(ctes), row=row, probe=sql.Identifier(source.stored_key[0]), stored_key=stored_key,
        stage=stage, match=_match(source, "w", source.stored_key))


def _match(source: Source, alias: str, columns: Sequence[str]) -> sql.Composable:
    """`alias.c = <staged c>` for each column."""
    return sql.SQL(" AND ").join(sql.SQL("{}.{} = {}").format(sql.Identifier(alias), sql.Identifier(c),
                                                               _from_stage(c)) for c in columns)


def _claim_keys(source: Source, stage: sql.Identifier) -> sql.Composable:
    """Claim the natural keys no earlier row holds, first staged row first, returning the claims:
    the rows matching a claim (same key, same time) are the ones to insert. The claims join the
    batch as a CTE, never the whole key table."""
    cols = (*source.key, source.time_column)
    names = sql.SQL(", ").join(sql.Identifier(c) for c in cols)
    return sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} s ORDER BY s.{} ON CONFLICT DO NOTHING"
                   " RETURNING {}").format(sql.Identifier(source.key_table), names,
                                           sql.SQL(", ").join(_from_stage(c) for c in cols), stage,
                                           sql.Identifier(STAGE_ROW), names)


def _from_stage(column: str) -> sql.Composable:
    """The staged value of `column` (the staging table has the target's types)."""
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
        """Partition maintenance (TimescaleDB does this itself), in its own short transaction, for
        the chunks that receive rows only: one stray timestamp must not create every day between."""
        if table.num_rows == 0:
            return
        hours = pc.unique(pc.floor_temporal(table[source.time_column], unit="hour")).to_pylist()
        missing = [h for h in hours if (source.table, h) not in self._covered]
        if not missing:
            return
        with self.conn.transaction():
            self.conn.execute("SELECT lascopf_ensure_partitions_at(%s, %s)", (source.table, missing))
        self._covered.update((source.table, h) for h in missing)

    def write(self, batch_id: int, tables: dict[Source, pa.Table], dead_letters: Sequence[DeadLetter],
              conflict_letters: ConflictLetters = conflict_letters_from_rows,
              ) -> tuple[list[SourceWrite], list[LakeObjectPlan], list[DeadLetter]]:
        """Stage, insert, record dead letters (given and conflicts) and the lake manifest; commit once.
        Returns the writes, the lake objects to write and every dead letter recorded."""
        for source, table in tables.items():
            self.ensure_partitions(source, table)
            self._stage(source)
        writes: list[SourceWrite] = []
        objects: list[LakeObjectPlan] = []
        dead = list(dead_letters)
        with self.conn.transaction():
            for source, table in tables.items():
                if table.num_rows:
                    write = self._insert(source, table)
                    writes.append(write)
                    objects.extend(plan_objects(source, write.new_rows, batch_id))
                    if write.conflicts:
                        dead.extend(conflict_letters(source, table, write.conflicts))
            self._insert_dead_letters(dead)
            self._insert_manifest(objects)
        return writes, objects, dead

    def probe(self, source: Source, table: pa.Table) -> None:
        """Write `table` and roll it back: raises what a real write of these rows would raise."""
        self.ensure_partitions(source, table)
        self._stage(source)
        with self.conn.transaction(force_rollback=True):
            self._insert(source, table)

    def _stage(self, source: Source) -> sql.Identifier:
        """A session-lifetime temp table shaped like the target, plus each row's position, created
        outside any write transaction (a rollback must not take it away behind the cache)."""
        name = f"stage_{source.table}"
        if name not in self._staging:
            stage = sql.Identifier(name)
            with self.conn.transaction():
                self.conn.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
                                  .format(stage, sql.Identifier(source.table)))
                self.conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} bigint").format(
                    stage, sql.Identifier(STAGE_ROW)))
            self._staging.add(name)
        return sql.Identifier(name)

    def _insert(self, source: Source, table: pa.Table) -> SourceWrite:
        """COPY, then one statement: claim the keys (key-table sources), insert, and name the staged
        rows that did not go in (usually none, so nothing crosses the wire); only those are looked
        up again."""
        stage = self._stage(source)
        staged = table.append_column(STAGE_ROW, pa.array(np.arange(table.num_rows, dtype=np.int64)))
        with self.conn.cursor() as cur:
            with cur.copy(sql.SQL("COPY {} ({}, {}) FROM STDIN (FORMAT binary)").format(
                    stage, sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names),
                    sql.Identifier(STAGE_ROW))) as copy:
                for chunk in copy_binary(staged):
                    copy.write(chunk)
            inserted, left_out = None, []
            if source.key_table:
                inserted, left_out = self._insert_claimed(cur, source, stage, table)
            if inserted is None:
                inserted, left_out = cur.execute(_insert_statement(source, stage, table.column_names),
                                                 {"n": table.num_rows}).fetchone()
            if not left_out:
                return SourceWrite(source.name, table.num_rows, inserted, table)
            conflicts = self._classify(cur, source, stage, left_out)
        fresh = np.setdiff1d(np.arange(table.num_rows), np.asarray(left_out, dtype=np.int64), assume_unique=True)
        return SourceWrite(source.name, table.num_rows, inserted, table.take(pa.array(fresh)), conflicts)

    def _insert_claimed(self, cur: psycopg.Cursor, source: Source, stage: sql.Identifier,
                        table: pa.Table) -> tuple[int | None, list[int]]:
        """The common case of a key-table source, without ON CONFLICT's speculative insertion:
        in-batch repeats are set aside in Arrow, keys already claimed are found by index probes,
        and the rest is claimed and inserted with plain INSERTs. A worker claiming the same keys at
        the same moment (a rebalance replay) makes this fail with a unique violation; then nothing
        of it stays (a savepoint) and the caller takes the general statement (None)."""
        repeats = _repeats(table, source.key)
        with _index_probes(cur):
            cur.execute(sql.SQL("SELECT array_agg(s.{row}) FROM {stage} s JOIN {keys} k ON {match}"
                                " WHERE NOT s.{row} = ANY(%s::bigint[])").format(
                row=sql.Identifier(STAGE_ROW), stage=stage, keys=sql.Identifier(source.key_table),
                match=_match(source, "k", source.key)), (repeats,))
            left_out = sorted(repeats + (cur.fetchone()[0] or []))
        try:
            with self.conn.transaction():
                cur.execute(_insert_all_but(source, stage, source.key_table, (*source.key, source.time_column)),
                            (left_out,))
                cur.execute(_insert_all_but(source, stage, source.table, table.column_names), (left_out,))
                return cur.rowcount, left_out
        except psycopg.errors.UniqueViolation:
            return None, []

    @staticmethod
    def _classify(cur: psycopg.Cursor, source: Source, stage: sql.Identifier, left_out: list[int]) -> list[Conflict]:
        """The staged rows that did not go in, against the row stored under their natural key:
        equal content is a re-send, other content a conflict."""
        same = sql.SQL(" AND ").join(sql.SQL("{} IS NOT DISTINCT FROM t.{}").format(
            _from_stage(c), sql.Identifier(c)) for c in source.record.content_names)
        key_cols = sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(k)) for k in source.key)
        stored = sql.SQL("{} t ON {}").format(sql.Identifier(source.table), _match(source, "t", source.stored_key))
        if source.key_table:
            stored = sql.SQL("{} k ON {} JOIN {} t ON {}").format(
                sql.Identifier(source.key_table), _match(source, "k", source.key),
                sql.Identifier(source.table),
                sql.SQL(" AND ").join(sql.SQL("t.{0} = k.{0}").format(sql.Identifier(c)) for c in source.stored_key))
        with _index_probes(cur):
            cur.execute(sql.SQL("SELECT s.{row}, ({same}), t.ingest_batch, t.{time}, {key} FROM {stage} s"
                                " JOIN {stored} WHERE s.{row} = ANY(%s::bigint[]) ORDER BY s.{row}").format(
                row=sql.Identifier(STAGE_ROW), same=same, key=key_cols, time=sql.Identifier(source.time_column),
                stage=stage, stored=stored), (left_out,))
            found = cur.fetchall()
        conflicts = []
        for row, is_same, stored_batch, stored_ts, *key in found:
            if not is_same:
                natural_key = {k: v.isoformat() if isinstance(v, datetime) else v
                               for k, v in zip(source.key, key, strict=True)}  # as JSON: the dead letter's column
                conflicts.append(Conflict(row, natural_key, f"{source.name} {natural_key} is stored (ingest batch "
                                          f"{stored_batch}, {source.time_column} {stored_ts.isoformat()}) with other"
                                          " content"))
        return conflicts

    def _insert_dead_letters(self, dead_letters: Iterable[DeadLetter]) -> None:
        rows = [(d.source, d.topic, d.partition, d.offset, d.item, d.reason, d.detail,
                 d.payload, d.envelope, None if d.natural_key is None else Jsonb(d.natural_key))
                for d in dead_letters]
        if rows:
            with self.conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO dead_letters (source, topic, kafka_partition, kafka_offset, item, reason, detail,"
                    " payload, envelope, natural_key) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT DO NOTHING", rows)

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


def next_meter_seq(conn: psycopg.Connection) -> int:
    """Where a new simulator run starts every meter's `seq`: one past the highest stored (the key
    table's index leads with `seq`: one probe of its right edge, however many readings are stored).
    Each meter's counter keeps increasing across runs; the jump is a gap, as a missed sample leaves."""
    highest = conn.execute("SELECT max(seq) FROM ami_reading_keys").fetchone()[0]
    return 0 if highest is None else int(highest) + 1
