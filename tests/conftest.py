"""Real servers as fixtures on free loopback ports: PostgreSQL from its server binaries, the Tansu
Kafka-protocol broker (or KAFKA_BOOTSTRAP_SERVERS when set) and moto's S3 server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from data_engineering.contracts.telemetry import telemetry_sources
from data_engineering.embedded.kafka import TansuBroker
from data_engineering.embedded.postgres import PostgresServer
from data_engineering.embedded.s3 import ACCESS_KEY, SECRET_KEY, MotoS3Server
from data_engineering.ingestion.topics import ensure_topics
from data_engineering.storage.database import Database
from data_engineering.storage.lake import S3Lake
from data_engineering.storage.migrations import migrate


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    server = PostgresServer(tmp_path_factory.mktemp("pg") / "data", durable=False, ephemeral=True).start()
    yield server
    server.stop()


@pytest.fixture
def database(pg_server: PostgresServer) -> Iterator[Database]:
    """A fresh, migrated database per test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    db = Database(pg_server.create_database(name))
    migrate(db)
    yield db
    pg_server.drop_database(name)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    broker = TansuBroker(log_path=Path(tmp_path_factory.mktemp("tansu")) / "tansu.log").start()
    yield broker.bootstrap_servers
    broker.stop()


@pytest.fixture
def topic_prefix(kafka_bootstrap: str) -> str:
    """Each test gets its own topics (and dead-letter topics)."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    sources = telemetry_sources(prefix)
    ensure_topics(kafka_bootstrap, [s.topic for s in sources.values()], partitions=2, dead_letter_suffix=".dlq")
    return prefix


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoS3Server]:
    server = MotoS3Server().start()
    yield server
    server.stop()


@pytest.fixture
def lake(s3_server: MotoS3Server) -> S3Lake:
    return S3Lake(f"lake-{uuid.uuid4().hex[:10]}", s3_server.endpoint, ACCESS_KEY, SECRET_KEY, prefix="raw")
