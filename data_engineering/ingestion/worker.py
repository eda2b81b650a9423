"""The ingest worker: a Kafka consumer-group member whose loop is poll → decode → batch → write → commit.

Commit order (as Quix Streams writes it down): rows, dead letters and the lake manifest in one
database transaction; then the lake objects; then the dead-letter topic flushed; only then the
offsets. A crash anywhere replays the uncommitted messages, and the natural keys, the dead-letter
coordinates and the manifest absorb the replay: at-least-once delivery, exactly-once effect.
The loop is synchronous, so when the database lags the worker simply polls less: nothing buffers
without bound. SIGTERM finishes the batch in hand, commits and leaves the group.

How a batch is made durable (bisecting what the store refuses, retrying what can succeed later) is
`batch_writer`'s. A rebalance makes the batch in hand durable on the consumer's IO thread, where
only a non-blocking commit is allowed; if that commit is lost, the next owner replays records that
are already stored, which the natural keys absorb.
"""

from __future__ import annotations

import gc
import logging
import queue
import signal
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from data_engineering.contracts.dead_letter import DeadLetter
from data_engineering.contracts.spec import Source
from data_engineering.ingestion.batch_writer import Backoff, Batch, BatchWriter, Written
from data_engineering.ingestion.buffer import Origin, RecordBuffer
from data_engineering.ingestion.decode import Coordinates, EventWindow, MessageDecoder
from data_engineering.ingestion.metrics import IngestMetrics
from data_engineering.storage.database import Database
from data_engineering.storage.lake import Lake
from data_engineering.storage.telemetry import SourceWrite

log = logging.getLogger(__name__)


def tune_gc_for_streaming(gen0_threshold: int = 100_000) -> None:
    """Garbage-collector settings for a worker process. The hot path allocates a few dozen objects
    per record (decoded dicts, strings, floats) and none of them form cycles, yet with the default
    threshold a collection runs every 700 allocations and a full one keeps walking every buffered
    record: a quarter of the worker's CPU went there. Freezing what exists at start (modules, the
    compiled validators) and collecting less often returns that to ingestion; cycles, which only
    errors and shutdown make, are still collected."""
    gc.freeze()
    gc.set_threshold(gen0_threshold, 20, 10)


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
    max_lateness_s: float | None = 30 * 86_400  # event time accepted this long before arrival; None = any
    max_lead_s: float = 300.0  # … and this long after it (clock skew)
    retry_backoff_s: float = 1.0  # first wait before reconnecting to the database / retrying the lake
    retry_backoff_max_s: float = 15.0
    writers: int = 2  # batches made durable at once, each on its own connection (committed in order)


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
        window = None if config.max_lateness_s is None else EventWindow(config.max_lateness_s, config.max_lead_s)
        self.decoders = {s.topic: MessageDecoder(s, window) for s in sources.values()}
        self.buffers = {s.topic: RecordBuffer(s) for s in sources.values()}
        self.db = db
        self.lake = lake
        self.metrics = metrics or IngestMetrics()
        self.stats = IngestStats()
        self._dead: list[DeadLetter] = []
        self._offsets: dict[TopicPartition, int] = {}
        self._stop = False
        self._closing = False
        self._executor = ThreadPoolExecutor(max_workers=config.writers, thread_name_prefix="ingest-writer")
        self._inflight: deque[tuple[Batch, Future]] = deque()  # completed (committed) in the order sealed
        self._writers: queue.SimpleQueue[BatchWriter] = queue.SimpleQueue()  # one connection each
        for _ in range(config.writers):
            self._writers.put(BatchWriter(db, lake, sources, self.buffers, self.metrics, config.dead_letter_suffix,
                                          Backoff(config.retry_backoff_s, config.retry_backoff_max_s),
                                          giving_up=lambda: self._closing or self._stop))
        self._poll_thread = threading.current_thread()
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
        for writer in self._all_writers():
            writer.producer = self.producer

    def run(self, idle_exit_s: float | None = None) -> IngestStats:
        """Consume until stopped; with `idle_exit_s`, also stop once nothing arrived for that long."""
        self._poll_thread = threading.current_thread()
        self._all_writers()[0].archive([])  # what an earlier worker left pending; if the lake is away, later
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
                drained = not pending and not self._inflight
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
        for writer in self._all_writers():
            writer.close()

    # -- the hot path --------------------------------------------------------------------------------
    def _take(self, messages: list) -> None:
        for msg in messages:
            at = Coordinates(msg.topic, msg.partition, msg.offset, msg.key)
            decoded = self.decoders[msg.topic].decode(msg.value, at, msg.timestamp)
            if decoded.good:
                self.buffers[msg.topic].extend(decoded.good, msg.timestamp, Origin(at, msg.value, decoded.envelope),
                                               decoded.items)
            if decoded.dead:
                self._dead.extend(decoded.dead)
            self._offsets[TopicPartition(msg.topic, msg.partition)] = msg.offset + 1

    def _pending(self) -> int:
        return sum(len(b) for b in self.buffers.values()) + len(self._dead)

    # -- making batches durable ---------------------------------------------------------------------
    # The consumer thread seals a batch and hands it to one writer thread, then goes on decoding the
    # next one while PostgreSQL works. At most one batch is in flight (backpressure), and its offsets
    # are committed by the consumer thread once the writer reports it durable.

    def _seal(self) -> Batch:
        batch = Batch({t: b.take() for t, b in self.buffers.items() if len(b)}, self._dead, self._offsets)
        self._dead, self._offsets = [], {}
        return batch

    def _submit(self, batch: Batch) -> None:
        if len(self._inflight) == self.config.writers:
            self._complete()
        self._inflight.append((batch, self._executor.submit(self._write, batch)))

    def _write(self, batch: Batch) -> Written:
        writer = self._writers.get()
        try:
            return writer.write(batch)
        finally:
            self._writers.put(writer)

    def _all_writers(self) -> list[BatchWriter]:
        """Every batch writer, when none is in use (setup and shutdown)."""
        writers = [self._writers.get() for _ in range(self.config.writers)]
        for writer in writers:
            self._writers.put(writer)
        return writers

    def _complete_if_done(self) -> None:
        while self._inflight and self._inflight[0][1].done():
            self._complete()

    def _complete(self) -> None:
        """Commit the oldest batch in flight once it is durable: offsets go in the order they were read."""
        assert self._inflight and self.consumer is not None
        batch, future = self._inflight.popleft()
        written = future.result()  # a failed write raises here: nothing is committed
        self._commit(batch.offsets)
        self._account(written)
        if self.on_stored is not None:
            self.on_stored(written.writes)

    def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        """The records below these offsets are durable. Off the poll thread (a rebalance listener,
        on the consumer's IO thread) only the non-blocking commit is allowed. A commit that fails
        loses nothing: the records are stored, and the replay that follows is absorbed by their
        natural keys."""
        assert self.consumer is not None
        commits = {tp: OffsetAndMetadata(off, "", -1) for tp, off in offsets.items()}
        if not commits:
            return
        try:
            if threading.current_thread() is not self._poll_thread:
                self.consumer.commit_async(commits)
            else:
                self.consumer.commit(commits)
        except KafkaError as exc:
            self.metrics.commit_failures.inc()
            log.warning("offsets %s not committed (%s); their records are durable, a replay is absorbed",
                        {f"{tp.topic}[{tp.partition}]": off for tp, off in offsets.items()}, exc)

    def flush(self) -> None:
        """Make everything taken so far durable and commit its offsets (shutdown, rebalance)."""
        if self._offsets:
            self._submit(self._seal())
        while self._inflight:
            self._complete()

    def _account(self, written: Written) -> None:
        """Duplicates are re-sends absorbed: repeats inside the batch and rows already stored alike."""
        m, s = self.metrics, self.stats
        for w in written.writes:
            m.records.labels(w.source).inc(w.inserted)
            m.duplicates.labels(w.source).inc(w.duplicates)
            s.records += w.inserted
            s.duplicates += w.duplicates
            s.by_source[w.source] += w.inserted
        for d in written.dead:
            m.rejected.labels(d.source, d.reason).inc()
        for o in written.objects:
            m.lake_objects.labels(o.source).inc()
        s.rejected += len(written.dead)
        s.lake_objects += len(written.objects)
        s.batches += 1
        m.batches.inc()
        m.batch_seconds.observe(written.seconds)
        if self.on_batch is not None:
            self.on_batch(s)
        log.info("batch %d stored: %d new, %d duplicates, %d dead-lettered, %d lake objects in %.0f ms",
                 s.batches, sum(w.inserted for w in written.writes), sum(w.duplicates for w in written.writes),
                 len(written.dead), len(written.objects), written.seconds * 1000)

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
    """Before partitions move to another worker, make what was taken from them durable. Runs on the
    consumer's IO thread while the poll thread waits in `poll()`, so it may touch the worker's state
    but not block on Kafka: the commit is sent without waiting."""

    def __init__(self, worker: IngestWorker) -> None:
        self.worker = worker

    def on_partitions_revoked(self, revoked) -> None:  # noqa: ANN001
        if revoked and not self.worker._closing:
            log.info("revoking %d partitions: making the batch in hand durable", len(revoked))
            self.worker.flush()

    def on_partitions_assigned(self, assigned) -> None:  # noqa: ANN001
        log.info("assigned %d partitions", len(assigned))
