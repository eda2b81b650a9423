"""The anomaly_models DAG through `dag.test()` on a small faulted run stored in PostgreSQL: it stores
a version per detector with held-out metrics, and flags the last minute with the newest one."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from data_engineering.pipelines.airflow_local import run_dag
from data_engineering.pipelines.grid_setup import register_simulated_grid
from data_engineering.simulation.faults import Fault
from data_engineering.simulation.grid import load_reference_grid
from tests.helpers import stored
from tests.pipelines.anomaly_data import store_run
from tests.simulation.streams import simulate

START = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
END = START + timedelta(minutes=30)
LOSS = Fault("phase_loss", "transformer", "xf-p-00002", 1740.0, 60.0, 0.95, phase="A")  # the last minute


@pytest.fixture
def env(database, airflow_home):  # noqa: ANN001, ANN201
    run = simulate(load_reference_grid("pglib_opf_case30_ieee"), start=START, duration_s=1800, n_meters=32, seed=7,
                   random_faults_per_hour=120.0, faults=(LOSS,))
    register_simulated_grid(database, run.sim)
    store_run(database, run)
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    os.environ.update({"DATABASE_URL": database.url, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"})  # never dialled
    yield database
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def test_retrains_stores_metrics_and_flags_the_last_minute(env):
    outcome = run_dag("anomaly_models", END, conf={"window_start": START.isoformat(), "window_end": END.isoformat()})
    assert outcome.ok, outcome.tasks
    models = stored(env, "SELECT detector, version, train_end, test_start, metrics FROM anomaly_models"
                         " ORDER BY detector")
    assert models.detector.tolist() == ["hgb", "iforest", "rules"] and set(models.version) == {1}
    assert (models.train_end == START + timedelta(minutes=20)).all()
    assert set(models.metrics[0]) >= {"phase_loss", "meter_tamper"}
    events = stored(env, "SELECT window_start, target_id, predicted_kind FROM anomaly_events")
    assert ("xf-p-00002", "phase_loss") in set(zip(events.target_id, events.predicted_kind, strict=True))
    assert (events.window_start == END - timedelta(minutes=1)).all()
