"""Small shared pieces for the tests: run a simulation into Kafka, run a worker, read back."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa
from kafka import KafkaProducer

from data_engineering.contracts.telemetry import telemetry_sources
from data_engineering.ingestion.worker import IngestStats, IngestWorker, WorkerConfig
from data_engineering.simulation.engine import SimulationConfig, SimulationReport, Simulator
from data_engineering.simulation.publish import make_producer, publish
from data_engineering.storage.archive import read_source
from data_engineering.storage.database import Database
from data_engineering.storage.lake import Lake

START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def small_config(prefix: str, **overrides) -> SimulationConfig:  # noqa: ANN003
    base = dict(start=START, duration_s=120, n_meters=2, seed=7, ideal_backhaul=True, missing_prob=0.0,
                random_sags_per_hour=0.0, topic_prefix=prefix)
    return SimulationConfig(**(base | overrides))


def simulate_to_kafka(bootstrap: str, config: SimulationConfig) -> SimulationReport:
    producer = make_producer(bootstrap)
    try:
        return publish(Simulator(config), producer)
    finally:
        producer.close()


def send_raw(bootstrap: str, topic: str, values: list[bytes], key: bytes = b"k") -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for value in values:
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()


def worker_config(bootstrap: str, prefix: str, **overrides) -> WorkerConfig:  # noqa: ANN003
    base = dict(bootstrap_servers=bootstrap, group_id=f"{prefix}ingest", batch_rows=500, linger_ms=200,
                max_poll_interval_ms=5_000, session_timeout_ms=6_000, max_lateness_s=None)
    return WorkerConfig(**(base | overrides))


def run_worker(bootstrap: str, prefix: str, db: Database, lake: Lake, idle_exit_s: float = 2.0,
               **overrides) -> tuple[IngestStats, IngestWorker]:  # noqa: ANN003
    worker = IngestWorker(worker_config(bootstrap, prefix, **overrides), telemetry_sources(prefix), db, lake)
    return worker.run(idle_exit_s=idle_exit_s), worker


def stored(db: Database, query: str, params: tuple = ()) -> pd.DataFrame:
    with db.connect(autocommit=True) as conn:
        cur = conn.execute(query, params)
        return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])


def lake_table(lake: Lake, source: str) -> pa.Table:
    return read_source(lake, source)
