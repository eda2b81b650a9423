"""`lascopf simulate` against real servers: `--history-days` lands the forecast's history, and a
second invocation continues every meter's seq after what the first stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from data_engineering.cli import app
from data_engineering.contracts.telemetry import telemetry_sources
from data_engineering.embedded.s3 import ACCESS_KEY, SECRET_KEY
from data_engineering.ingestion.topics import ensure_topics
from data_engineering.storage.lake import open_lake
from tests.helpers import run_worker, stored

pytestmark = pytest.mark.slow
START = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


def test_simulate_lands_history_and_continues_seq(database, kafka_bootstrap, s3_server, monkeypatch):  # noqa: ANN001
    prefix = f"s{uuid.uuid4().hex[:6]}."
    ensure_topics(kafka_bootstrap, [s.topic for s in telemetry_sources(prefix).values()], 1, ".dlq")
    env = {"DATABASE_URL": database.url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "KAFKA_TOPIC_PREFIX": prefix,
           "LAKE_URL": f"s3://lake-{uuid.uuid4().hex[:8]}/raw", "S3_ENDPOINT": s3_server.endpoint,
           "S3_ACCESS_KEY": ACCESS_KEY, "S3_SECRET_KEY": SECRET_KEY, "ENVIRONMENT": "test"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    common = ["simulate", "--meters", "8", "--minutes", "1", "--ideal"]
    first = runner.invoke(app, [*common, "--start", START.isoformat(), "--history-days", "2"])
    assert first.exit_code == 0, first.output
    files = stored(database, "SELECT object_key, status, rows_loaded FROM landing_files")
    assert files.status.tolist() == ["loaded"] and files.rows_loaded[0] > 0
    history = stored(database, "SELECT min(ts) AS first, max(ts) AS last FROM scada_measurements"
                               " WHERE element_type = 'load'").iloc[0]
    assert history["first"] == START - timedelta(days=2) and history["last"] == START - timedelta(minutes=5)
    lake = open_lake(env["LAKE_URL"], env["S3_ENDPOINT"], ACCESS_KEY, SECRET_KEY)
    run_worker(kafka_bootstrap, prefix, database, lake)
    first_max = stored(database, "SELECT meter_id, max(seq) AS seq FROM ami_readings GROUP BY meter_id")

    second = runner.invoke(app, [*common, "--start", (START + timedelta(minutes=1)).isoformat(), "--faults", "600"])
    assert second.exit_code == 0, second.output
    run_worker(kafka_bootstrap, prefix, database, lake)
    labels = stored(database, "SELECT start_ts, is_simulation FROM fault_labels")
    assert len(labels) > 0 and labels.is_simulation.all() and (labels.start_ts >= START + timedelta(minutes=1)).all()
    phases = stored(database, "SELECT is_simulation FROM phase_measurements")
    assert len(phases) > 0 and phases.is_simulation.all()
    seqs = stored(database, "SELECT meter_id, event_ts, seq FROM ami_readings ORDER BY meter_id, event_ts")
    later = seqs[seqs.event_ts >= START + timedelta(minutes=1)].groupby("meter_id")["seq"].min()
    assert len(first_max) == 8 and len(later) == 8
    assert (later > first_max.set_index("meter_id")["seq"].reindex(later.index)).all()
    steps = seqs.groupby("meter_id")["seq"].diff().dropna()
    assert (steps >= 1).all()  # strictly increasing per meter across both runs
    assert stored(database, "SELECT count(*) AS n FROM dead_letters").n[0] == 0
