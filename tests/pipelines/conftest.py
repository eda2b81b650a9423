"""One simulated world for the DAG tests: a migrated database, topics, an S3 lake, Airflow's
metadata database, a week of SCADA history loaded by the daily batch DAG and ten minutes of live
telemetry ingested from Kafka. The DAGs run through `dag.test()` against these real servers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from data_engineering.contracts.telemetry import telemetry_sources
from data_engineering.embedded.s3 import ACCESS_KEY, SECRET_KEY
from data_engineering.ingestion.topics import ensure_topics
from data_engineering.pipelines.airflow_local import prepare_airflow_home, run_dag
from data_engineering.pipelines.grid_setup import register_simulated_grid
from data_engineering.runtime import Platform, connect_platform
from data_engineering.settings import Settings
from data_engineering.simulation.engine import Disturbance, SimulationConfig, Simulator
from data_engineering.simulation.history import scada_history, to_parquet
from data_engineering.simulation.publish import make_producer, publish
from data_engineering.storage.database import Database
from data_engineering.storage.migrations import migrate
from tests.helpers import run_worker

START = datetime(2026, 11, 19, 18, 50, tzinfo=UTC)  # a Thursday, towards the evening peak
LIVE_S = 600
SAG = Disturbance("sag", 200.0, 8.0, 0.7, pole_id="p-00001")


@dataclass
class World:
    platform: Platform
    sim: Simulator
    env: dict[str, str]
    history_key: str

    @property
    def window_end(self) -> datetime:
        return START + timedelta(seconds=LIVE_S)


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return prepare_airflow_home(tmp_path_factory.mktemp("airflow"))


@pytest.fixture(scope="module")
def world(pg_server, kafka_bootstrap, s3_server, airflow_home) -> Iterator[World]:  # noqa: ANN001
    name = f"w_{uuid.uuid4().hex[:10]}"
    db = Database(pg_server.create_database(name))
    migrate(db)
    prefix = f"w{uuid.uuid4().hex[:6]}."
    ensure_topics(kafka_bootstrap, [s.topic for s in telemetry_sources(prefix).values()], 2, ".dlq")
    env = {"DATABASE_URL": db.url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "KAFKA_TOPIC_PREFIX": prefix,
           "LAKE_URL": f"s3://lake-{uuid.uuid4().hex[:8]}/raw", "S3_ENDPOINT": s3_server.endpoint,
           "S3_ACCESS_KEY": ACCESS_KEY, "S3_SECRET_KEY": SECRET_KEY, "ENVIRONMENT": "test"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    platform = connect_platform(Settings())
    sim = Simulator(SimulationConfig(start=START, duration_s=LIVE_S, n_meters=40, seed=11, topic_prefix=prefix,
                                     random_sags_per_hour=0.0, disturbances=(SAG,)))
    register_simulated_grid(db, sim)
    history_key = f"{platform.settings.landing_prefix}scada/history.parquet"
    platform.lake.put(history_key, to_parquet(scada_history(Simulator(sim.config), 9.5)))
    outcome = run_dag("lascopf_daily_ingest", START)
    assert outcome.ok, outcome.tasks
    publish(sim, make_producer(kafka_bootstrap))
    run_worker(kafka_bootstrap, prefix, db, platform.lake)
    yield World(platform, sim, env, history_key)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    pg_server.drop_database(name)
