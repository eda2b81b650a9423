"""Airflow's real processes — api-server, scheduler and dag-processor, LocalExecutor, metadata on
the test PostgreSQL — running the platform's DAGs as a user's would, triggered through the REST API
with no logical date (Airflow 3's default for manual runs): `ami_analytics` with no conf at all, a
dispatch that succeeds, and one that fails at once with its reason, read back by the client the
API follows runs with; then `POST /api/v1/execute` followed to `succeeded` with its results served."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from data_engineering.embedded.process import free_port, stop_process, wait_for_port
from data_engineering.pipelines.airflow_api import AirflowClient
from data_engineering.workstation.airflow import airflow_env, commands
from tests.api.conftest import api_settings
from tests.pipelines.conftest import START, World

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def airflow(world: World, pg_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowClient]:  # noqa: ANN001
    home = tmp_path_factory.mktemp("airflow-live")
    db = pg_server.create_database(f"af_{uuid.uuid4().hex[:8]}")
    port = free_port()
    (home / "passwords.json").write_text(json.dumps({"admin": "secret"}))
    env = {**os.environ, **world.env, **airflow_env(home, db, port)}
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True,
                   timeout=600)
    procs = []
    for name, args in commands(port):
        with (home / f"{name}.log").open("wb") as log:
            procs.append(subprocess.Popen([sys.executable, "-m", "airflow", *args], env=env, stdout=log,
                                          stderr=subprocess.STDOUT))
    try:
        wait_for_port(port, 180, procs[0], home / "airflow-api-server.log")
        client = AirflowClient(f"http://127.0.0.1:{port}", "admin", "secret", timeout_s=30)
        deadline = time.monotonic() + 240
        while True:  # the dag-processor has parsed the DAG files
            try:
                if {client.dag("lascopf_dispatch"), client.dag("ami_analytics")} == {False}:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (home / "airflow-dag-processor.log").read_text()[-3000:]
            time.sleep(1)
        yield client
    finally:
        for proc in reversed(procs):
            stop_process(proc, 30)
        print({p.name: p.read_text()[-1500:] for p in home.glob("*.log")})  # shown when the test failed


def _finish(client: AirflowClient, dag_id: str, run_id: str, timeout_s: float = 300) -> str:
    deadline = time.monotonic() + timeout_s
    while (state := client.run_state(dag_id, run_id)) not in ("success", "failed"):
        assert time.monotonic() < deadline, f"{dag_id} {run_id} still {state}"
        time.sleep(1)
    return state


def test_runs_without_a_logical_date_under_the_real_scheduler(world: World, airflow: AirflowClient) -> None:
    analytics = airflow.trigger("ami_analytics", {}, "live_analytics")
    ok = airflow.trigger("lascopf_dispatch", {"window_end": world.window_end.isoformat()}, "live_dispatch")
    assert _finish(airflow, "ami_analytics", analytics) == "success"
    assert _finish(airflow, "lascopf_dispatch", ok) == "success"

    bad = airflow.trigger("lascopf_dispatch", {"window_end": (START + timedelta(seconds=30)).isoformat()},
                          "live_too_little")
    assert _finish(airflow, "lascopf_dispatch", bad) == "failed"
    reason = airflow.failure_reason("lascopf_dispatch", bad)  # failed on its first try, with the reason
    assert reason.startswith("transform (try 1): AirflowFailException: TooFewLiveIntervals: the window"), reason


def test_an_api_request_is_followed_to_succeeded_and_its_results_served(world: World,
                                                                        airflow: AirflowClient) -> None:
    from fastapi.testclient import TestClient

    from data_engineering.api.app import create_app
    from data_engineering.api.keys import create_api_key
    from data_engineering.api.security import Role

    with world.platform.db.transaction() as conn:
        key = {"X-API-Key": create_api_key(conn, f"live-{uuid.uuid4().hex[:6]}", Role.operator)[1]}
    settings = api_settings(airflow_api_url=airflow.api_url, airflow_username="admin", airflow_password="secret",
                            api_run_poll_s=1.0)
    with TestClient(create_app(settings, world.platform.db.url)) as client:
        accepted = client.post("/api/v1/execute", json={"window_end": world.window_end.isoformat()}, headers=key)
        assert accepted.status_code == 202, accepted.text
        url = accepted.json()["results_url"]
        deadline = time.monotonic() + 300
        while (answer := client.get(url, headers=key)).status_code == 202:
            assert answer.json()["status"] in ("queued", "running"), answer.json()
            assert time.monotonic() < deadline, answer.json()
            time.sleep(1)
        assert answer.status_code == 200 and answer.json()["status"] == "optimal"
        assert client.get(f"{url}/dispatch", headers=key).json()["count"] > 0
        request = uuid.UUID(accepted.json()["execution_id"])
        while (row := _request_row(world, request))[0] != "succeeded":  # the run's last task, publish, ends
            assert row[0] in ("queued", "running") and time.monotonic() < deadline, row
            time.sleep(1)
    assert row[1].endswith(f"execution {request} stored")


def _request_row(world: World, request: uuid.UUID) -> tuple[str, str]:
    with world.platform.db.connect(autocommit=True) as conn:
        return conn.execute("SELECT status, message FROM lascopf_run_requests WHERE request_id = %s",
                            (request,)).fetchone()
