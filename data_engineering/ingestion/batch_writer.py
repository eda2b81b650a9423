"""Make one sealed batch durable, on the ingest worker's writer thread: rows, dead letters and the
lake manifest in one transaction; then the lake objects; then the dead-letter topic.

Every record is stored or dead-lettered: a batch the store refuses is bisected to the records
refused on their own, which are dead-lettered `store_rejected`, and the rest is written. What can
succeed later is retried: a lost database connection (reconnect and rewrite the batch whole), an
unreachable lake (the manifest keeps the objects pending; they are rebuilt from the database once
the lake answers, while the rows, already durable, let the offsets be committed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import pyarrow as pa
from kafka import KafkaProducer, TopicPartition

from data_engineering.contracts.dead_letter import DeadLetter
from data_engineering.contracts.spec import Source
from data_engineering.ingestion.buffer import RecordBuffer, Taken
from data_engineering.ingestion.isolate import isolate
from data_engineering.ingestion.metrics import IngestMetrics
from data_engineering.storage.archive import LakeObjectPlan, reconcile_pending, write_objects
from data_engineering.storage.database import Database
from data_engineering.storage.lake import Lake
from data_engineering.storage.telemetry import Conflict, SourceWrite, TelemetryWriter

log = logging.getLogger(__name__)

# Failures of particular records: conversion to Arrow, or the database refusing a value (SQLSTATE
# classes 22 data exception, 23 integrity violation, 54 program limit). Bisecting finds the records.
RECORD_ERRORS: tuple[type[BaseException], ...] = (
    pa.ArrowInvalid, pa.ArrowTypeError, OverflowError,
    psycopg.errors.DataError, psycopg.errors.IntegrityError, psycopg.errors.ProgramLimitExceeded,
)
# Failures that can succeed later: the database connection (class 08, shutdown 57P…).
DATABASE_DOWN: tuple[type[BaseException], ...] = (psycopg.OperationalError, psycopg.InterfaceError)


@dataclass(frozen=True)
class Batch:
    records: dict[str, Taken]  # per topic
    dead: list[DeadLetter]
    offsets: dict[TopicPartition, int]  # next offset to consume, per partition


@dataclass(frozen=True)
class Written:
    writes: list[SourceWrite]
    objects: list[LakeObjectPlan]
    dead: list[DeadLetter]  # every dead letter recorded: the decoder's, the store's and conflicts
    seconds: float


@dataclass(frozen=True)
class Backoff:
    first_s: float = 1.0
    max_s: float = 15.0


class BatchWriter:
    def __init__(self, db: Database, lake: Lake, sources: dict[str, Source], buffers: dict[str, RecordBuffer],
                 metrics: IngestMetrics, dead_letter_suffix: str, backoff: Backoff,
                 giving_up: Callable[[], bool]) -> None:
        self.db, self.lake, self.sources, self.buffers = db, lake, sources, buffers
        self.by_topic = {s.topic: s for s in sources.values()}
        self.metrics, self.dead_letter_suffix, self.backoff = metrics, dead_letter_suffix, backoff
        self.giving_up = giving_up  # shutting down: stop retrying, the uncommitted batch is replayed later
        self.conn = db.connect(autocommit=True)  # every write is an explicit transaction() block
        self.writer = TelemetryWriter(self.conn)
        self.producer: KafkaProducer | None = None
        self._lake_retry_at: float | None = time.monotonic()  # rebuild what an earlier worker left pending

    def write(self, batch: Batch) -> Written:
        started = time.perf_counter()
        delay = self.backoff.first_s
        while True:
            try:
                writes, objects, dead = self._write_once(batch)
                break
            except psycopg.errors.TransactionRollback as exc:  # a deadlock with the worker's other writer
                log.info("batch rolled back (%s): writing it again", exc)
                continue
            except DATABASE_DOWN as exc:
                if self.giving_up():
                    raise
                self.metrics.retries.labels("database").inc()
                log.warning("database unavailable (%s): reconnecting in %.1f s", exc, delay)
                time.sleep(delay)
                delay = min(2 * delay, self.backoff.max_s)
                self._reconnect()
        self.archive(objects)
        self._publish_dead_letters(dead)
        return Written(writes, objects, dead, time.perf_counter() - started)

    def close(self) -> None:
        self.conn.close()

    def _reconnect(self) -> None:
        try:
            self.conn.close()
        finally:
            try:
                self.conn = self.db.connect(autocommit=True)
                self.writer = TelemetryWriter(self.conn)
            except DATABASE_DOWN as exc:
                log.warning("reconnect failed: %s", exc)

    def _write_once(self, batch: Batch) -> tuple[list[SourceWrite], list[LakeObjectPlan], list[DeadLetter]]:
        batch_id = self.writer.next_batch_id()
        records, rejected = dict(batch.records), []
        try:
            return self._store(batch_id, records, batch.dead)
        except RECORD_ERRORS as exc:
            log.warning("batch %d refused by the store (%s): isolating the records", batch_id, exc)
        for topic, taken in batch.records.items():
            source, buffer = self.by_topic[topic], self.buffers[topic]
            bad = isolate(len(taken), lambda rows, s=source, b=buffer, t=taken:
                          self.writer.probe(s, b.to_arrow(t.subset(rows), batch_id)), RECORD_ERRORS)
            if bad:
                rejected.extend(taken.dead_letter(source, row, "store_rejected", reason) for row, reason in bad)
                records[topic] = taken.subset(sorted(set(range(len(taken))) - {row for row, _ in bad}))
                log.warning("%s: %d record(s) dead-lettered as store_rejected", source.name, len(bad))
        return self._store(batch_id, {t: r for t, r in records.items() if len(r)}, batch.dead + rejected)

    def _store(self, batch_id: int, records: dict[str, Taken],
               dead: list[DeadLetter]) -> tuple[list[SourceWrite], list[LakeObjectPlan], list[DeadLetter]]:
        tables = {self.by_topic[t]: self.buffers[t].to_arrow(taken, batch_id) for t, taken in records.items()}

        def conflict_letters(source: Source, _table: pa.Table, conflicts: list[Conflict]) -> list[DeadLetter]:
            taken = records[source.topic]
            return [taken.dead_letter(source, c.row, "conflicting_duplicate", c.detail, c.natural_key)
                    for c in conflicts]

        return self.writer.write(batch_id, tables, dead, conflict_letters)

    def archive(self, objects: list[LakeObjectPlan]) -> None:
        """Write the batch's lake objects; while the lake is away they stay pending in the manifest
        (the rows are durable) and are rebuilt from the database once it answers again."""
        now = time.monotonic()
        try:
            if self._lake_retry_at is not None and now >= self._lake_retry_at:
                rebuilt = reconcile_pending(self.conn, self.lake, self.sources)
                if rebuilt:
                    log.info("%d pending lake objects rebuilt from the database", len(rebuilt))
                self._lake_retry_at = None
            if self._lake_retry_at is None:
                write_objects(self.lake, objects)
                self.writer.mark_written([o.key for o in objects])
        except DATABASE_DOWN:
            raise
        except Exception as exc:  # noqa: BLE001 - any lake client failure: retried from the manifest
            self.metrics.retries.labels("lake").inc()
            self._lake_retry_at = now + self.backoff.max_s
            log.warning("lake unavailable (%s): objects stay pending, retried in %.0f s", exc, self.backoff.max_s)

    def _publish_dead_letters(self, dead: list[DeadLetter]) -> None:
        if not dead:
            return
        assert self.producer is not None
        for d in dead:
            headers = [("reason", d.reason.encode()), ("detail", d.detail.encode()[:1024]),
                       ("source_topic", d.topic.encode()), ("source_partition", str(d.partition).encode()),
                       ("source_offset", str(d.offset).encode()), ("item", str(d.item).encode())]
            if d.envelope is not None:
                headers.append(("envelope", d.envelope))
            self.producer.send(d.topic + self.dead_letter_suffix, value=d.payload, key=d.key, headers=headers)
        self.producer.flush()
