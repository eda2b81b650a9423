"""Runs the API starts through Airflow are followed to their end: a request row goes queued →
running → succeeded, or → failed with the failed task and its error, and requests a previous API
process left unfinished are followed on start. A fake of Airflow 3's REST API on a loopback port
stands in for Airflow (its api-server, scheduler and workers take minutes to start); it answers as
Airflow 3 does, JWT included."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from data_engineering.api.app import create_app
from data_engineering.api.keys import create_api_key
from data_engineering.api.security import Role
from data_engineering.storage.database import Database
from tests.api.conftest import api_settings

RUN = re.compile(r"^/api/v2/dags/lascopf_dispatch/dagRuns(?:/(?P<run>[^/]+)(?P<rest>/.*)?)?$")
ERROR = "TooFewLiveIntervals: the window holds 0 complete interval(s) of AMI readings"


class FakeAirflow(ThreadingHTTPServer):
    """Runs keep the state the test gives them; tokens expire when the test says so."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.states: dict[str, str] = {}
        self.confs: dict[str, dict] = {}
        self.token = "t0"
        self.tokens_issued = 0
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def expire_token(self) -> None:
        self.token = f"t{self.tokens_issued + 1}"


class Handler(BaseHTTPRequestHandler):
    server: FakeAirflow

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict:
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        fake = self.server
        if self.path == "/auth/token":
            body = self._body()
            if (body.get("username"), body.get("password")) != ("admin", "secret"):
                return self._send(401, {"detail": "Invalid credentials"})
            fake.tokens_issued += 1
            fake.token = f"t{fake.tokens_issued}"
            return self._send(201, {"access_token": fake.token})
        if not self._authorised():
            return None
        body = self._body()
        assert body["logical_date"] is None
        fake.states[body["dag_run_id"]] = "queued"
        fake.confs[body["dag_run_id"]] = body["conf"]
        return self._send(200, {"dag_run_id": body["dag_run_id"], "state": "queued", "logical_date": None})

    def do_GET(self) -> None:  # noqa: N802
        if not self._authorised():
            return None
        match = RUN.match(self.path.split("?")[0])
        state = self.server.states.get(match["run"]) if match else None
        if state is None:
            return self._send(404, {"detail": "not found"})
        if match["rest"] is None:
            return self._send(200, {"dag_run_id": match["run"], "state": state})
        if match["rest"] == "/taskInstances":
            return self._send(200, {"task_instances": [
                {"task_id": "extract", "state": "success", "try_number": 1, "map_index": -1},
                {"task_id": "transform", "state": "failed", "try_number": 1, "map_index": -1},
                {"task_id": "solve", "state": "upstream_failed", "try_number": 0, "map_index": -1}]})
        assert match["rest"] == "/taskInstances/transform/logs/1" and self.headers["Accept"] == "application/json"
        return self._send(200, {"content": [
            {"event": "Task instance is in running state"},
            {"event": "Task failed with exception", "error_detail": [
                {"exc_type": "AirflowFailException", "exc_value": ERROR, "frames": []},
                {"exc_type": "TooFewLiveIntervals", "exc_value": ERROR.split(": ", 1)[1], "frames": []}]}]})

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {self.server.token}":
            self._send(401, {"detail": "token expired"})
            return False
        return True


@pytest.fixture
def airflow() -> Iterator[FakeAirflow]:
    fake = FakeAirflow()
    yield fake
    fake.shutdown()


def _settings(airflow: FakeAirflow):  # noqa: ANN202
    return api_settings(airflow_api_url=airflow.url, airflow_username="admin", airflow_password="secret",
                        api_run_poll_s=0.05)


def _wait_for_status(client: TestClient, headers: dict, execution_id: str, status: str) -> dict:
    deadline = time.monotonic() + 20
    while True:
        body = client.get(f"/api/v1/results/{execution_id}", headers=headers).json()
        if body["status"] == status:
            return body
        assert time.monotonic() < deadline, f"still {body}"
        time.sleep(0.05)


def test_an_airflow_run_is_followed_to_succeeded_or_failed_with_its_reason(database: Database,
                                                                           airflow: FakeAirflow) -> None:
    with database.transaction() as conn:
        key = {"X-API-Key": create_api_key(conn, "ops", Role.operator)[1]}
    with TestClient(create_app(_settings(airflow), database.url)) as client:
        ok, bad = (client.post("/api/v1/execute", json={"window_end": f"2026-11-20T12:{m}:00Z"}, headers=key).json()
                   for m in (10, 20))
        runs = {run_id: conf for run_id, conf in airflow.confs.items()}
        assert len(runs) == 2 and {c["window_end"] for c in runs.values()} == {"2026-11-20T12:10:00+00:00",
                                                                               "2026-11-20T12:20:00+00:00"}
        ok_run = next(r for r, c in runs.items() if c["window_end"].startswith("2026-11-20T12:10"))
        bad_run = next(r for r in runs if r != ok_run)
        assert ok["status"] == "queued" and _wait_for_status(client, key, ok["execution_id"], "queued")

        airflow.states[ok_run] = airflow.states[bad_run] = "running"
        running = _wait_for_status(client, key, ok["execution_id"], "running")
        assert running["message"] == f"Airflow run {ok_run} running"
        airflow.expire_token()  # the follower fetches a fresh one and goes on
        airflow.states[ok_run], airflow.states[bad_run] = "success", "failed"
        done = _wait_for_status(client, key, ok["execution_id"], "succeeded")
        failed = _wait_for_status(client, key, bad["execution_id"], "failed")
    assert done["execution_id"] == ok["execution_id"] and done["message"] == \
        f"Airflow run {ok_run} succeeded: execution {ok['execution_id']} stored"
    assert failed["message"] == f"Airflow run {bad_run} failed: transform (try 1): AirflowFailException: {ERROR}"
    assert airflow.tokens_issued == 2


def test_requests_left_unfinished_by_a_previous_api_process_are_followed_on_start(database: Database,
                                                                                   airflow: FakeAirflow) -> None:
    with database.transaction() as conn:
        key = {"X-API-Key": create_api_key(conn, "viewer", Role.viewer)[1]}
        request_id = uuid.uuid4()
        conn.execute("INSERT INTO lascopf_run_requests (request_id, run_key, requested_by, window_end, launcher,"
                     " status) VALUES (%s, 'lascopf_dispatch/api__old', 'test', now(), 'airflow', 'running')",
                     (request_id,))
        gone = uuid.uuid4()
        conn.execute("INSERT INTO lascopf_run_requests (request_id, run_key, requested_by, window_end, launcher)"
                     " VALUES (%s, 'lascopf_dispatch/api__deleted', 'test', now(), 'airflow')", (gone,))
    airflow.states["api__old"] = "success"
    with TestClient(create_app(_settings(airflow), database.url)) as client:
        assert _wait_for_status(client, key, str(request_id), "succeeded")
        assert _wait_for_status(client, key, str(gone), "failed")["message"] == "Airflow has no run api__deleted"
