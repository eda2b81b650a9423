"""The live WebSocket on a real server: credentials as on HTTP (headers first, else a single-use
ticket; never a key in the URL), unknown poles refused at the handshake, caps per caller and in
total, a stream that ends when its client leaves or the server stops, and nothing secret in the
access log."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from data_engineering.api.security import Role, mint_token
from tests.api.conftest import JWT_SECRET, SAG, Api, LiveServer, api_settings, serve

TIMEOUT_S = 10


@pytest.fixture(scope="module")
def live(api: Api) -> Iterator[LiveServer]:
    settings = api_settings(api_stream_backlog_s=10 * 365 * 86400, api_ws_max_per_caller=2, api_ws_max_total=3)
    with serve(settings, api.db.url, api.runs) as server:
        yield server


def stream(live: LiveServer, pole_id: str = SAG.pole_id, query: str = "", headers: dict | None = None,
           ) -> ClientConnection:
    return connect(f"{live.ws_url}/api/v1/poles/{pole_id}/live{query}", additional_headers=headers,
                   open_timeout=TIMEOUT_S, close_timeout=TIMEOUT_S)


def ticket(api: Api, live: LiveServer, role: str = "viewer") -> str:
    r = httpx.post(live.url + "/api/v1/stream-tickets", headers=api.headers(role), timeout=TIMEOUT_S)
    assert r.status_code == 201
    return r.json()["ticket"]


def refusal(live: LiveServer, **kwargs) -> int:  # noqa: ANN003
    """How the handshake was refused: the close code, or the HTTP status when closed before accepting."""
    with pytest.raises((ConnectionClosed, InvalidStatus)) as refused, stream(live, **kwargs) as ws:
        ws.recv(TIMEOUT_S)
    exc = refused.value
    return exc.response.status_code if isinstance(exc, InvalidStatus) else exc.rcvd.code


def released(live: LiveServer) -> bool:
    """Whether every stream's slot and feed are given back within the time."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if not live.app.state.stream_slots.open and live.app.state.feeds.active == 0:
            return True
        time.sleep(0.05)
    return False


def meters_of(api: Api, pole_id: str) -> set[str]:
    with api.db.connect() as conn:
        return {m for (m,) in conn.execute("SELECT meter_id FROM meters WHERE pole_id = %s", (pole_id,))}


@pytest.mark.parametrize("credentials", ["api_key_header", "bearer_header", "ticket"])
def test_a_pole_streams_with_the_credentials_http_accepts(api: Api, live: LiveServer, credentials: str) -> None:
    token = mint_token(JWT_SECRET, "alice", Role.viewer, timedelta(minutes=5))
    kwargs = {"api_key_header": {"headers": api.headers("viewer")},
              "bearer_header": {"headers": {"Authorization": f"Bearer {token}"}},
              "ticket": {"query": f"?ticket={ticket(api, live)}"}}[credentials]
    with stream(live, **kwargs) as ws:
        batch = json.loads(ws.recv(TIMEOUT_S))
    assert batch and {r["meter_id"] for r in batch} <= meters_of(api, SAG.pole_id)
    assert [r["event_ts"] for r in batch] == sorted(r["event_ts"] for r in batch)
    assert released(live)


def test_a_ticket_works_once_and_a_key_in_the_url_not_at_all(api: Api, live: LiveServer) -> None:
    once = ticket(api, live)
    with stream(live, query=f"?ticket={once}") as ws:
        ws.recv(TIMEOUT_S)
    assert refusal(live, query=f"?ticket={once}") in (403, 1008)
    assert refusal(live, query=f"?api_key={api.keys['viewer']}") in (403, 1008)
    assert refusal(live) in (403, 1008)
    assert released(live)


def test_an_unknown_pole_is_refused_at_the_handshake(api: Api, live: LiveServer) -> None:
    """Was: accepted, then polled forever."""
    assert refusal(live, pole_id="p-99999", headers=api.headers("viewer")) in (403, 1008)
    assert live.app.state.feeds.active == 0


def test_streams_are_capped_per_caller_and_in_total(api: Api, live: LiveServer) -> None:
    viewer, analyst = api.headers("viewer"), api.headers("analyst")
    with stream(live, headers=viewer) as a, stream(live, headers=viewer) as b:
        a.recv(TIMEOUT_S), b.recv(TIMEOUT_S)
        assert refusal(live, headers=viewer) in (403, 1013)  # a third for the same key
        with stream(live, headers=analyst) as c:
            c.recv(TIMEOUT_S)
            assert refusal(live, headers=api.headers("admin")) in (403, 1013)  # the server's total
    assert released(live)


def test_a_stream_ends_when_its_client_leaves_without_new_data(api: Api, live: LiveServer) -> None:
    """Was: the loop only noticed a closed client when it had something to send, so a quiet pole's
    loops polled on for clients long gone. The pole here has no reading after the backlog."""
    with stream(live, pole_id=api.pole_ids[-1], headers=api.headers("viewer")) as ws:
        ws.recv(TIMEOUT_S)
        assert live.app.state.feeds.active == 1
    assert released(live)


def test_clients_of_one_pole_share_one_feed(api: Api, live: LiveServer) -> None:
    with stream(live, headers=api.headers("viewer")) as a, stream(live, headers=api.headers("analyst")) as b:
        first_a, first_b = json.loads(a.recv(TIMEOUT_S)), json.loads(b.recv(TIMEOUT_S))
        assert live.app.state.feeds.active == 1
    assert first_a[0] == first_b[0]  # each got the backlog from its start
    assert released(live)


def test_open_streams_do_not_hold_a_shutdown(api: Api) -> None:
    settings = api_settings(api_stream_backlog_s=10 * 365 * 86400, api_shutdown_grace_s=5)
    with serve(settings, api.db.url, api.runs) as server, stream(server, headers=api.headers("viewer")) as ws:
        ws.recv(TIMEOUT_S)
        assert server.stop(timeout_s=TIMEOUT_S)


def test_the_logs_name_the_caller_never_a_secret(api: Api, live: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    """Was: uvicorn's access log printed `?api_key=...`. The access log names the key, and uvicorn's
    own handshake line loses the query string."""
    once = ticket(api, live)
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="data_engineering.api.access"), \
                caplog.at_level(logging.INFO, logger="uvicorn.error"):
            with stream(live, query=f"?ticket={once}") as ws:
                ws.recv(TIMEOUT_S)
            httpx.get(live.url + "/api/v1/topology", params={"at": "2026-07-07T12:00:00Z"},
                      headers=api.headers("viewer"), timeout=TIMEOUT_S)
            assert released(live)
    finally:
        uvicorn_log.removeHandler(caplog.handler)
    lines = {(d["route"], d["status"]): d for d in (json.loads(r.getMessage()) for r in caplog.records
                                                    if r.name == "data_engineering.api.access")}
    assert lines[("/api/v1/poles/{pole_id}/live", 101)]["caller"] == "key:test-viewer"
    assert lines[("/api/v1/topology", 200)]["caller"] == "key:test-viewer"
    assert any("WebSocket /api/v1/poles/" in r.getMessage() for r in caplog.records if r.name == "uvicorn.error")
    assert once not in caplog.text and api.keys["viewer"] not in caplog.text and "2026-07-07" not in caplog.text
