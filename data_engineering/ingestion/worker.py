"""The ingest worker: a Kafka consumer-group member whose loop is poll → decode → batch → write → commit.

Commit order (as Quix Streams writes it down): rows, dead letters and the lake manifest in one
database transaction; then the lake objects; then the dead-letter topic flushed; only then the
offsets. A crash anywhere replays the uncommitted messages, and the natural keys, the dead-letter
coordinates and the manifest absorb the replay: at-least-once delivery, exactly-once effect.
The loop is synchronous, so when the database lags the worker simply polls less: nothing buffers
without bound. SIGTERM finishes the batch in hand, commits and leaves the group.
"""

from __future__ import annotations

import logging
import signal
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.structs import OffsetAndMetadata

from data_engineering.contracts.spec import Source
from data_engineering.ingestion.buffer import RecordBuffer
from data_engineering.ingestion.decode import Coordinates, DeadLetter, MessageDecoder
from data_engineering.ingestion.metrics import IngestMetrics
from data_engineering.storage.archive import LakeObjectPlan, reconcile_pending, write_objects
from data_engineering.storage.database import Database
from data_engineering.storage.lake import Lake
from data_engineering.storage.telemetry import SourceWrite, TelemetryWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    bootstrap_servers: str
    group_id: str
    batch_rows: int = 20_000
    linger_ms: int = 1_000
    max_poll_records: int = 500
    max_poll_interval_ms: int = 300_000
    session_timeout_ms: int = 10_000
    dead_letter_suffix: str = ".dlq"
    lag_interval_s: float = 5.0


@dataclass(frozen=True)
class _Batch:
    records: dict[str, tuple[list[dict], list[int]]]  # topic → (records, Kafka timestamps in ms)
    dead: list[DeadLetter]
    offsets: dict[TopicPartition, int]  # next offset to consume, per partition


@dataclass
class IngestStats:
    records: int = 0
    rejected: int = 0
    duplicates: int = 0
    batches: int = 0
    lake_objects: int = 0
    by_source: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class IngestWorker:
    def __init__(self, config: WorkerConfig, sources: dict[str, Source], db: Database, lake: Lake,
                 metrics: IngestMetrics | None = None) -> None:
        self.config = config
        self.sources = sources
        self.by_topic = {s.topic: s for s in sources.values()}
        self.decoders = {s.topic: MessageDecoder(s) for s in sources.values()}
        self.buffers = {s.topic: RecordBuffer(s) for s in sources.values()}
        self.db = db
        self.lake = lake
        self.metrics = metrics or IngestMetrics()
        self.stats = IngestStats()
        self._dead: list[DeadLetter] = []
        self._offsets: dict[TopicPartition, int] = {}
        self._stop = False
        self._closing = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        self._inflight: tuple[_Batch, Future] | None = None
        self._conn = db.connect(autocommit=True)  # every write is an explicit transaction() block
        self.writer = TelemetryWriter(self._conn)
        self.consumer: KafkaConsumer | None = None
        self.producer: KafkaProducer | None = None
        self.on_batch: Callable[[IngestStats], None] | None = None  # progress display, tests
        self.on_stored: Callable[[list[SourceWrite]], None] | None = None  # rows now durable (re-opt trigger)

    # -- lifecycle -------------------------------------------------------------------------------
    def stop(self, *_: object) -> None:
        log.info("stop requested: finishing the batch in hand")
        self._stop = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def _connect(self) -> None:
        c = self.config
        self.consumer = KafkaConsumer(
            bootstrap_servers=c.bootstrap_servers, group_id=c.group_id, client_id=f"{c.group_id}-worker",
            enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=c.max_poll_records,
            max_poll_interval_ms=c.max_poll_interval_ms, session_timeout_ms=c.session_timeout_ms,
            heartbeat_interval_ms=max(100, c.session_timeout_ms // 4),
            fetch_max_bytes=64 << 20, max_partition_fetch_bytes=16 << 20,
        )
        self.consumer.subscribe(list(self.by_topic), listener=_FlushOnRevoke(self))
        self.producer = KafkaProducer(bootstrap_servers=c.bootstrap_servers, acks="all", linger_ms=5,
                                      compression_type="lz4")

    def run(self, idle_exit_s: float | None = None) -> IngestStats:
        """Consume until stopped; with `idle_exit_s`, also stop once nothing arrived for that long."""
        rebuilt = reconcile_pending(self._conn, self.lake, self.sources)
        if rebuilt:
            log.warning("rebuilt %d lake objects left pending by an earlier worker", len(rebuilt))
        self._connect()
        assert self.consumer is not None
        last_data = last_seal = last_lag = time.monotonic()
        try:
            while not self._stop:
                polled = self.consumer.poll(timeout_ms=min(200, self.config.linger_ms or 200))
                now = time.monotonic()
                if polled or not self.consumer.assignment():  # idle only counts once partitions are ours
                    last_data = now
                    for messages in polled.values():
                        self._take(messages)
                self._complete_if_done()
                pending = self._pending()
                if pending >= self.config.batch_rows or (pending and (now - last_seal) * 1000 >= self.config.linger_ms):
                    self._submit(self._seal())
                    last_seal = now
                if now - last_lag >= self.config.lag_interval_s:
                    self._report_lag()
                    last_lag = now
                drained = not pending and self._inflight is None
                if idle_exit_s is not None and drained and now - last_data >= idle_exit_s:
                    log.info("idle for %.1f s: exiting", idle_exit_s)
                    break
            self.flush()
            self._report_lag()
        finally:
            self.close()
        return self.stats

    def close(self) -> None:
        """Leave the group without flushing: whatever was not committed is replayed by the next owner."""
        self._closing = True
        self._executor.shutdown(wait=True)
        if self.consumer is not None:
            self.consumer.close(autocommit=False)
            self.consumer = None
        if self.producer is not None:
            self.producer.close(timeout=10)
            self.producer = None
        self._conn.close()

    # -- the hot path --------------------------------------------------------------------------------
    def _take(self, messages: list) -> None:
        for msg in messages:
            at = Coordinates(msg.topic, msg.partition, msg.offset, msg.key)
            good, bad = self.decoders[msg.topic].decode(msg.value, at)
            if good:
                self.buffers[msg.topic].extend(good, msg.timestamp)
            if bad:
                self._dead.extend(bad)
            self._offsets[TopicPartition(msg.topic, msg.partition)] = msg.offset + 1

    def _pending(self) -> int:
        return sum(len(b) for b in self.buffers.values()) + len(self._dead)

    # -- making batches durable ---------------------------------------------------------------------
    # The consumer thread seals a batch and hands it to one writer thread, then goes on decoding the
    # next one while PostgreSQL works. At most one batch is in flight (backpressure), and its offsets
    # are committed by the consumer thread once the writer reports it durable.

    def _seal(self) -> _Batch:
        batch = _Batch({t: b.take() for t, b in self.buffers.items() if len(b)}, self._dead, self._offsets)
        self._dead, self._offsets = [], {}
        return batch

    def _submit(self, batch: _Batch) -> None:
        if self._inflight is not None:
            self._complete()
        self._inflight = (batch, self._executor.submit(self._write, batch))

    def _complete_if_done(self) -> None:
        if self._inflight is not None and self._inflight[1].done():
            self._complete()

    def _complete(self) -> None:
        assert self._inflight is not None and self.consumer is not None
        batch, future = self._inflight
        self._inflight = None
        writes, objects, seconds = future.result()  # a failed write raises here: nothing is committed
        self.consumer.commit({tp: OffsetAndMetadata(off, "", -1) for tp, off in batch.offsets.items()})
        self._account(batch, writes, objects, seconds)
        if self.on_stored is not None:
            self.on_stored(writes)

    def flush(self) -> None:
        """Make everything taken so far durable and commit its offsets (shutdown, rebalance)."""
        if self._offsets:
            self._submit(self._seal())
        if self._inflight is not None:
            self._complete()

    def _write(self, batch: _Batch) -> tuple[list[SourceWrite], list[LakeObjectPlan], float]:
        """Writer thread: rows, dead letters and manifest in one transaction; lake objects; dead-letter topic."""
        started = time.perf_counter()
        batch_id = self.writer.next_batch_id()
        tables = {self.by_topic[t]: self.buffers[t].to_arrow(records, received, batch_id)
                  for t, (records, received) in batch.records.items()}
        writes, objects = self.writer.write(batch_id, tables, batch.dead)
        write_objects(self.lake, objects)
        self.writer.mark_written([o.key for o in objects])
        self._publish_dead_letters(batch.dead)
        return writes, objects, time.perf_counter() - started

    def _publish_dead_letters(self, dead: list[DeadLetter]) -> None:
        if not dead:
            return
        assert self.producer is not None
        for d in dead:
            headers = [("reason", d.reason.encode()), ("detail", d.detail.encode()[:1024]),
                       ("source_topic", d.topic.encode()), ("source_partition", str(d.partition).encode()),
                       ("source_offset", str(d.offset).encode()), ("item", str(d.item).encode())]
            self.producer.send(d.topic + self.config.dead_letter_suffix, value=d.payload, key=d.key, headers=headers)
        self.producer.flush()

    def _account(self, batch: _Batch, writes: list[SourceWrite], objects: list[LakeObjectPlan],
                 seconds: float) -> None:
        """Duplicates are what was received less what was new: repeats inside the batch and rows
        already stored alike."""
        m, s = self.metrics, self.stats
        received = {self.by_topic[t].name: len(records) for t, (records, _) in batch.records.items()}
        for w in writes:
            duplicates = received[w.source] - w.inserted
            m.records.labels(w.source).inc(w.inserted)
            m.duplicates.labels(w.source).inc(duplicates)
            s.records += w.inserted
            s.duplicates += duplicates
            s.by_source[w.source] += w.inserted
        for d in batch.dead:
            m.rejected.labels(d.source, d.reason).inc()
        for o in objects:
            m.lake_objects.labels(o.source).inc()
        s.rejected += len(batch.dead)
        s.lake_objects += len(objects)
        s.batches += 1
        m.batches.inc()
        m.batch_seconds.observe(seconds)
        if self.on_batch is not None:
            self.on_batch(s)
        log.info("batch %d stored: %d new, %d duplicates, %d dead-lettered, %d lake objects in %.0f ms",
                 s.batches, sum(w.inserted for w in writes), sum(received.values()) - sum(w.inserted for w in writes),
                 len(batch.dead), len(objects), seconds * 1000)

    def _report_lag(self) -> None:
        if self.consumer is None:
            return
        assigned = list(self.consumer.assignment())
        if not assigned:
            return
        ends = self.consumer.end_offsets(assigned)
        for tp in assigned:
            lag = max(0, ends.get(tp, 0) - self.consumer.position(tp))
            self.metrics.lag.labels(tp.topic, str(tp.partition)).set(lag)


class _FlushOnRevoke(ConsumerRebalanceListener):
    """Before partitions move to another worker, make what was taken from them durable."""

    def __init__(self, worker: IngestWorker) -> None:
        self.worker = worker

    def on_partitions_revoked(self, revoked) -> None:  # noqa: ANN001
        if revoked and not self.worker._closing:
            self.worker.flush()

    def on_partitions_assigned(self, assigned) -> None:  # noqa: ANN001
        log.info("assigned %d partitions", len(assigned))
