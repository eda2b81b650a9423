"""Resolve the settings into live endpoints: the configured servers, or embedded local ones for
whatever is not configured (PostgreSQL from its binaries, Tansu, a lake directory)."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass, field

from data_engineering.contracts.spec import Source
from data_engineering.contracts.telemetry import telemetry_sources
from data_engineering.ingestion.topics import ensure_topics
from data_engineering.settings import Settings
from data_engineering.storage.database import Database
from data_engineering.storage.lake import Lake, open_lake
from data_engineering.storage.migrations import migrate

log = logging.getLogger(__name__)
EMBEDDED_DB = "lascopf"


@dataclass
class Platform:
    settings: Settings
    db: Database
    bootstrap_servers: str
    lake: Lake
    embedded: list[str] = field(default_factory=list)

    @property
    def sources(self) -> dict[str, Source]:
        return telemetry_sources(self.settings.kafka_topic_prefix, self.settings.nominal_voltage_v)

    def ensure_topics(self) -> None:
        ensure_topics(self.bootstrap_servers, [s.topic for s in self.sources.values()],
                      self.settings.kafka_partitions, self.settings.dead_letter_suffix)

    def env(self) -> dict[str, str]:
        """Environment that points another process at these same servers."""
        env = {"DATABASE_URL": self.db.url, "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
               "LAKE_URL": self.lake.url}
        if self.settings.s3_endpoint:
            env["S3_ENDPOINT"] = self.settings.s3_endpoint
        return env


def settings_lake(settings: Settings) -> Lake:
    """The lake the settings name (a directory or an S3 bucket)."""
    secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
    return open_lake(settings.lake_url, settings.s3_endpoint, settings.s3_access_key, secret, settings.s3_secure,
                     settings.s3_region)


def connect_platform(settings: Settings) -> Platform:
    """The configured servers, started elsewhere (compose, or `lascopf embedded` / the demo, which
    export their endpoints): what DAG tasks use. Nothing is started or migrated here."""
    missing = [name for name, value in (("DATABASE_URL", settings.database_url),
                                        ("KAFKA_BOOTSTRAP_SERVERS", settings.kafka_bootstrap_servers)) if not value]
    if missing:
        raise RuntimeError(f"set {' and '.join(missing)}: pipeline tasks connect to running servers")
    return Platform(settings, Database(settings.database_url, "lascopf-pipeline"), settings.kafka_bootstrap_servers,
                    settings_lake(settings))


def open_platform(settings: Settings, stack: ExitStack, durable: bool = True, ephemeral: bool = False) -> Platform:
    """Start what is missing (registered on `stack` for shutdown), migrate, create topics."""
    embedded: list[str] = []
    url = settings.database_url
    if url is None:
        from data_engineering.embedded.postgres import PostgresServer

        server = PostgresServer(settings.embedded_dir / "postgres", durable=durable, ephemeral=ephemeral).start()
        stack.callback(server.stop)
        url = server.create_database(EMBEDDED_DB)
        embedded.append(f"PostgreSQL on 127.0.0.1:{server.port}")
    db = Database(url)
    applied = migrate(db)
    if applied:
        log.info("applied migrations: %s", ", ".join(f"{m.version:03d}" for m in applied))

    bootstrap = settings.kafka_bootstrap_servers
    if bootstrap is None:
        from data_engineering.embedded.kafka import TansuBroker

        settings.embedded_dir.mkdir(parents=True, exist_ok=True)
        broker = TansuBroker(log_path=settings.embedded_dir / "tansu.log").start()
        stack.callback(broker.stop)
        bootstrap = broker.bootstrap_servers
        embedded.append(f"Tansu Kafka broker on {bootstrap}")

    platform = Platform(settings, db, bootstrap, settings_lake(settings), embedded)
    platform.ensure_topics()
    return platform
