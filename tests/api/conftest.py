"""The API on a migrated database holding simulated AMI data (with injected sags), a solved and
stored LASCOPF execution, and one API key per role."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from data_engineering.analytics.rollups import refresh_rollups
from data_engineering.analytics.sags import detect_sags
from data_engineering.api.app import create_app
from data_engineering.api.keys import create_api_key
from data_engineering.api.runs import RunOrder
from data_engineering.api.security import Role
from data_engineering.embedded.postgres import PostgresServer
from data_engineering.embedded.process import free_port
from data_engineering.settings import Settings
from data_engineering.simulation.engine import Disturbance
from data_engineering.solver.cases import load_case
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.solve import solve_lascopf
from data_engineering.storage.database import Database
from data_engineering.storage.migrations import migrate
from data_engineering.storage.results import ExecutionRecord, ForecastBand, store_execution, store_forecast
from tests.analytics.conftest import START, fleet, load

JWT_SECRET = "test-secret-" + "x" * 32
SAG = Disturbance("sag", 600.0, 12.0, 0.6, pole_id="p-00001")


class RecordingRuns:
    """Queues orders without running them: the dispatch pipeline has its own tests (tests/pipelines);
    here the API's side of queueing is under test."""

    name = "in_process"

    def __init__(self) -> None:
        self.orders: list[RunOrder] = []

    def __call__(self, order: RunOrder) -> None:
        self.orders.append(order)


@dataclass
class Api:
    client: TestClient
    db: Database
    keys: dict[str, str]
    execution_id: uuid.UUID
    runs: RecordingRuns
    pole_ids: list[str] = field(default_factory=list)

    def headers(self, role: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[role]}


@pytest.fixture(scope="module")
def api(pg_server: PostgresServer) -> Iterator[Api]:
    name = f"api_{uuid.uuid4().hex[:10]}"
    db = Database(pg_server.create_database(name))
    migrate(db)
    sim = fleet(n_meters=16, disturbances=(SAG,))
    load(db, sim, 1800)
    refresh_rollups(db, START, START + timedelta(seconds=1800))
    detect_sags(db, START, START + timedelta(seconds=1800))
    execution = store_solved_execution(db)
    with db.transaction() as conn:
        keys = {role.name: create_api_key(conn, f"test-{role.name}", role)[1] for role in Role}
    runs = RecordingRuns()
    settings = api_settings(api_stream_backlog_s=10 * 365 * 86400)
    with TestClient(create_app(settings, db.url, runs_launcher=runs)) as client:
        yield Api(client, db, keys, execution, runs, list(sim.fleet.pole_ids))
    pg_server.drop_database(name)


def api_settings(**overrides) -> Settings:  # noqa: ANN003 - Settings fields
    """Limits far above what the functional tests send (tests/api/test_limits.py tightens them)."""
    return Settings(_env_file=None, **{"environment": "test", "api_jwt_secret": JWT_SECRET, "api_stream_poll_s": 0.05,
                                       "api_key_refresh_s": 0.1, "api_rate_limit_key": "10000/second",
                                       "api_rate_limit_anonymous": "10000/second"} | overrides)


def store_solved_execution(db: Database) -> uuid.UUID:
    """A small PGLib case solved with ADMM and stored as the pipeline stores its runs."""
    case = load_case("pglib_opf_case5_pjm", intervals=3, emergency_factor=1.5)
    result = solve_lascopf(case, SolveOptions(method="admm")).to_json(case)
    assert result["status"] == "optimal"
    execution_id = uuid.uuid4()
    times = pd.date_range(START, periods=case.intervals, freq="1h", tz=UTC)
    record = ExecutionRecord(execution_id, "tests/api", "cases/pglib_opf_case5_pjm/x", "x" * 16, None, START,
                             START + timedelta(minutes=15), None, None, 1.5, 4.0, True, 0.98 * result["objective"])
    scores = forecast_backtest(case, times)
    system = pd.Series(case.load_mw.sum(axis=1), index=times)
    with db.transaction() as conn:
        store_execution(conn, record, case, result, times)
        store_forecast(conn, execution_id, ForecastBand(0.95 * system, system, 1.05 * system), scores.as_dict())
    return execution_id


def forecast_backtest(case, times: pd.DatetimeIndex):  # noqa: ANN001, ANN201 - a Backtest
    """The quantile forecast's backtest (the scores a stored run carries) on three days of the
    case's loads before `times`, daily-shaped with noise."""
    from data_engineering.transformation.backtest import backtest

    index = pd.date_range(end=times[0] - pd.Timedelta(hours=1), periods=72, freq="1h", tz=UTC)
    shape = 1 + 0.2 * np.sin(2 * np.pi * index.hour.to_numpy() / 24)
    noise = np.random.default_rng(0).normal(1, 0.02, size=(len(index), case.buses.n))
    history = pd.DataFrame(case.load_mw[0] * shape[:, None] * noise, index=index, columns=list(case.buses.ids))
    return backtest(history, case.intervals, pd.Timedelta(hours=1))


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class LiveServer:
    """The API under uvicorn on a loopback port, as `lascopf api` serves it."""

    url: str
    app: FastAPI
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")

    def stop(self, timeout_s: float = 30) -> bool:
        """True when the server stopped within the time."""
        self.server.should_exit = True
        self.thread.join(timeout_s)
        return not self.thread.is_alive()


@contextmanager
def serve(settings: Settings, database_url: str, runs: object) -> Iterator[LiveServer]:
    app = create_app(settings, database_url, runs_launcher=runs)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                                           timeout_graceful_shutdown=settings.api_shutdown_grace_s))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.02)
    live = LiveServer(f"http://127.0.0.1:{port}", app, server, thread)
    try:
        yield live
    finally:
        live.stop()
