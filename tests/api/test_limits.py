"""Bounded work per caller and no 500 from input, on a real server: body limit before parsing,
rate limits (per key, and per address without valid credentials), a bounded, de-duplicating run
queue recorded in the audit table, run requests an interrupted process leaves marked failed, and
input a JSON encoder cannot echo or a date-time given as a number."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from psycopg_pool import ConnectionPool

from data_engineering.api import queries
from data_engineering.api.keys import create_api_key
from data_engineering.api.runs import InProcessRuns, RunOrder
from data_engineering.api.security import Role
from data_engineering.storage.database import Database
from tests.api.conftest import Api, LiveServer, RecordingRuns, api_settings, serve

TIMEOUT_S = 10


@pytest.fixture(scope="module")
def live(api: Api) -> Iterator[LiveServer]:
    with serve(api_settings(api_max_body_bytes=4096), api.db.url, api.runs) as server:
        yield server


def test_a_body_over_the_limit_is_refused_before_it_is_read(api: Api, live: LiveServer) -> None:
    big = b'{"reason": "' + b"x" * 1_000_000 + b'"}'
    declared = httpx.post(live.url + "/api/v1/execute", content=big, timeout=TIMEOUT_S,
                          headers={"Content-Type": "application/json"})
    assert declared.status_code == 413  # no credentials: refused on its Content-Length, never parsed

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield from (big[i:i + 1024] for i in range(0, len(big), 1024))

    streamed = httpx.post(live.url + "/api/v1/execute", content=chunks(), timeout=TIMEOUT_S,
                          headers=api.headers("operator") | {"Content-Type": "application/json"})
    assert streamed.status_code == 413 and "4096 bytes" in streamed.json()["detail"]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_in_a_body_are_a_422_that_echoes_them(api: Api, live: LiveServer, token: str) -> None:
    body = '{"event_start": "2026-07-07T16:00:00Z", "event_end": "2026-07-07T17:00:00Z", "x_days": ' + token + "}"
    r = httpx.post(live.url + "/api/v1/dr/compute", content=body, timeout=TIMEOUT_S,
                   headers=api.headers("analyst") | {"Content-Type": "application/json"})
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "x_days"] and error["input"].lower().lstrip("-") in ("nan", "inf", "infinity")


@pytest.mark.parametrize(("method", "path", "kwargs", "role"), [
    ("GET", "/api/v1/topology", {"params": {"at": "0.5"}}, "viewer"),
    ("GET", "/api/v1/anomalies", {"params": {"start": "0", "end": "1700000000"}}, "viewer"),
    ("POST", "/api/v1/execute", {"json": {"window_end": 0}}, "operator"),
    ("POST", "/api/v1/execute", {"json": {"window_end": "1700000000"}}, "operator"),
    ("POST", "/api/v1/dr/compute", {"json": {"event_start": 0, "event_end": 3600}}, "analyst"),
])
def test_date_times_are_rfc3339_strings_never_numbers(api: Api, live: LiveServer, method: str, path: str,
                                                      kwargs: dict, role: str) -> None:
    """Was: topology?at=0.5 answered for 1970 and {"window_end": 0} queued a run for 1970."""
    before = len(api.runs.orders)
    r = httpx.request(method, live.url + path, headers=api.headers(role), timeout=TIMEOUT_S, **kwargs)
    assert r.status_code == 422 and "RFC 3339" in r.text
    assert len(api.runs.orders) == before


def test_a_request_that_succeeded_without_storing_an_execution_is_not_a_500(api: Api, live: LiveServer) -> None:
    request_id = uuid.uuid4()
    with api.db.transaction() as conn:
        conn.execute("INSERT INTO lascopf_run_requests (request_id, run_key, requested_by, window_end, launcher,"
                     " status, message) VALUES (%s, %s, 'test', now(), 'airflow', 'succeeded', 'quality gate failed')",
                     (request_id, f"lascopf_dispatch/{request_id}"))
    r = httpx.get(f"{live.url}/api/v1/results/{request_id}", headers=api.headers("viewer"), timeout=TIMEOUT_S)
    assert r.status_code == 202 and r.json()["status"] == "succeeded"


def test_rate_limits_per_key_and_per_address_without_credentials(api: Api) -> None:
    settings = api_settings(api_rate_limit_key="5/minute", api_rate_limit_anonymous="3/minute")
    with serve(settings, api.db.url, api.runs) as live:
        def status(headers: dict | None = None) -> httpx.Response:
            return httpx.get(live.url + "/api/v1/topology", headers=headers, timeout=TIMEOUT_S)

        anonymous = [status({"X-API-Key": f"lk_guess_{i}"}) for i in range(4)]
        assert [r.status_code for r in anonymous] == [401, 401, 401, 429]
        assert 1 <= int(anonymous[-1].headers["Retry-After"]) <= 60
        viewer = [status(api.headers("viewer")) for _ in range(6)]
        assert [r.status_code for r in viewer] == [200] * 5 + [429]
        assert int(viewer[-1].headers["Retry-After"]) >= 1
        assert status(api.headers("analyst")).status_code == 200  # another key, its own budget
        assert status().status_code == 429  # the address is still over its budget for failed attempts
        assert httpx.get(live.url + "/health", timeout=TIMEOUT_S).status_code == 200  # monitoring never limited


@pytest.fixture
def queue(database: Database) -> Iterator[tuple[LiveServer, dict]]:
    with database.transaction() as conn:
        key = create_api_key(conn, "queue-operator", Role.operator)[1]
    with serve(api_settings(api_run_queue_max=3), database.url, RecordingRuns()) as live:
        yield live, {"X-API-Key": key}


def test_the_run_queue_is_bounded_and_identical_pending_requests_are_one(database: Database, queue) -> None:  # noqa: ANN001
    live, headers = queue
    window = datetime(2026, 7, 7, 16, tzinfo=UTC)

    def execute(minutes: int) -> httpx.Response:
        return httpx.post(live.url + "/api/v1/execute", headers=headers, timeout=TIMEOUT_S,
                          json={"window_end": (window + timedelta(minutes=minutes)).isoformat()})

    first = [execute(m) for m in (0, 5, 10)]
    assert [r.status_code for r in first] == [202] * 3
    again = execute(5)
    assert again.status_code == 202 and again.json()["duplicate"] is True
    assert again.json()["execution_id"] == first[1].json()["execution_id"]
    full = execute(15)
    assert full.status_code == 429 and full.headers["Retry-After"]
    assert len(live.app.state.runs.orders) == 3  # the duplicate and the refused one never reached the launcher
    with database.connect() as conn:
        audit = conn.execute("SELECT caller, action, status, detail->>'duplicate' FROM api_audit ORDER BY audit_id")
        assert audit.fetchall() == [("key:queue-operator", "execute", 202, "false")] * 3 + [
            ("key:queue-operator", "execute", 202, "true"), ("key:queue-operator", "execute", 429, None)]
        queries.update_run_request(conn, uuid.UUID(first[0].json()["execution_id"]), "failed", "test")
        conn.commit()
    assert execute(15).status_code == 202  # a finished request frees its place


class BlockingPlatform:
    """A platform whose first use waits: the run is in progress when the API shuts down."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def __getattr__(self, name: str) -> object:
        self.release.wait(30)
        raise RuntimeError("the platform went away")


def test_requests_a_shutdown_or_restart_interrupts_are_marked_failed(database: Database) -> None:
    settings = api_settings()
    with ConnectionPool(database.url, min_size=1, max_size=2, kwargs={"autocommit": True}) as pool:
        with pool.connection() as conn:
            stale = RunOrder.new(datetime.now(UTC), "left by a crashed process")
            queries.queue_run_request(conn, stale.execution_id, stale.run_key, "t", stale.window_end, "",
                                      "in_process", 9)
        platform = BlockingPlatform()
        runs = InProcessRuns(settings, pool, platform)
        assert runs.recover() == 1
        orders = [RunOrder.new(datetime.now(UTC) + timedelta(minutes=i), "t") for i in range(2)]
        with pool.connection() as conn:
            for o in orders:
                queries.queue_run_request(conn, o.execution_id, o.run_key, "t", o.window_end, "", runs.name, 9)
        for o in orders:
            runs(o)
        runs.shutdown()
    platform.release.set()
    with database.connect() as conn:
        rows = dict(conn.execute("SELECT request_id, message FROM lascopf_run_requests WHERE status = 'failed'"))
    assert rows == {stale.execution_id: InProcessRuns.RESTARTED, orders[0].execution_id: InProcessRuns.SHUTDOWN,
                    orders[1].execution_id: InProcessRuns.SHUTDOWN}
