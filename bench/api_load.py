"""The API under concurrent load, for bench/api.py: a sweep of concurrent clients with and without
valid credentials, parallel CSV exports, and many WebSocket clients on live readings with their
message lag. Clients run on asyncio in this process (on a 2-core machine they share the CPU with
the server, so the figures are a floor)."""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pandas as pd
import psycopg
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from data_engineering.solver.cases import load_case
from data_engineering.solver.contingencies import select
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.solve import solve_lascopf
from data_engineering.storage.database import Database
from data_engineering.storage.results import ExecutionRecord, store_execution

SLOW_S = 2.0  # the bound: no request over 2 s at any level


def _summary(samples: list[tuple[float, int]], wall_s: float) -> dict:
    latencies = sorted(s for s, _ in samples)
    statuses = [code for _, code in samples]
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    return {"requests": len(samples), "p50_ms": quantiles[49] * 1000, "p99_ms": quantiles[98] * 1000,
            "max_ms": latencies[-1] * 1000, "rps": len(samples) / wall_s,
            "2xx": sum(200 <= c < 300 for c in statuses), "4xx": sum(400 <= c < 500 for c in statuses),
            "503": statuses.count(503), "5xx_other": sum(c >= 500 and c != 503 for c in statuses),
            "transport_errors": statuses.count(0), "over_2s": sum(s > SLOW_S for s in latencies)}


async def _clients(base: str, url: str, headers: dict, clients: int, per_client: int,
                   check=None) -> dict:  # noqa: ANN001 - check(response) -> bool, counted as "complete"
    """Each client on a connection of its own (one shared httpx pool slows down with hundreds of
    connections, which would measure the client rather than the server), created before the clock
    starts and without TLS set-up (loopback HTTP)."""
    samples: list[tuple[float, int]] = []
    complete = 0
    sessions = [httpx.AsyncClient(base_url=base, headers=headers, timeout=30, verify=False) for _ in range(clients)]

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal complete
        for _ in range(per_client):
            started = time.perf_counter()
            try:
                response = await client.get(url)
                status = response.status_code
                complete += bool(check and status == 200 and check(response))
            except httpx.HTTPError:
                status = 0
            samples.append((time.perf_counter() - started, status))

    started = time.perf_counter()
    await asyncio.gather(*(one(c) for c in sessions))
    wall = time.perf_counter() - started
    await asyncio.gather(*(c.aclose() for c in sessions))
    return _summary(samples, wall) | ({"complete_bodies": complete} if check else {})


def sweep(base: str, key: str, levels: tuple[int, ...], requests_per_level: int, execution_id: uuid.UUID,
          csv_rows: int) -> list[dict]:
    """GET /api/v1/topology at each concurrency, with a valid key and with none; then 16 parallel
    CSV exports of a result table whose row count is known."""
    rows = []
    for clients in levels:
        per_client = max(1, requests_per_level // clients)
        for label, headers in (("valid key", {"X-API-Key": key}), ("no credentials", {})):
            figures = asyncio.run(_clients(base, "/api/v1/topology", headers, clients, per_client))
            rows.append({"load": f"topology, {label}", "clients": clients} | figures)
    url = f"/api/v1/results/{execution_id}/flows?format=csv"
    figures = asyncio.run(_clients(base, url, {"X-API-Key": key}, 16, 1,
                                   check=lambda r: r.text.count("\n") == csv_rows + 1))
    rows.append({"load": f"flows CSV export ({csv_rows:,} rows)", "clients": 16} | figures)
    return rows


def store_an_execution(db: Database, start: datetime) -> tuple[uuid.UUID, int]:
    """A solved pglib_opf_case118_ieee look-ahead (24 intervals, base case) stored as the pipeline
    stores its runs: the CSV exports' table. Returns its id and its number of flow rows."""
    case, _ = select(load_case("pglib_opf_case118_ieee", intervals=24), "none")
    result = solve_lascopf(case, SolveOptions(method="centralized")).to_json(case)
    execution_id = uuid.uuid4()
    record = ExecutionRecord(execution_id, "bench/api", "cases/pglib_opf_case118_ieee/bench", "b" * 16, None,
                             start, start + timedelta(minutes=15), None, None, 1.2, 4.0)
    with db.transaction() as conn:
        store_execution(conn, record, case, result, pd.date_range(start, periods=case.intervals, freq="5min", tz=UTC))
        (flows,) = conn.execute("SELECT count(*) FROM lascopf_flows WHERE execution_id = %s",
                                (execution_id,)).fetchone()
    return execution_id, flows


class LiveWriter:
    """Readings stamped now() for every meter of the given poles, every `period_s`: what the
    WebSocket clients receive, and from which their lag is measured."""

    def __init__(self, db_url: str, poles: list[str], period_s: float) -> None:
        self.db_url, self.poles, self.period_s = db_url, poles, period_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-writer", daemon=True)

    def __enter__(self) -> LiveWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            conn.execute("SELECT lascopf_ensure_partitions('ami_readings', now() - interval '1 day',"
                         " now() + interval '1 day')")
            seq = 10_000_000
            while not self._stop.wait(self.period_s):
                seq += 1
                conn.execute("INSERT INTO ami_readings (event_ts, meter_id, pole_id, seq, voltage_v, current_a,"
                             " power_kw, network_profile, received_ts, ingest_batch)"
                             " SELECT clock_timestamp(), meter_id, pole_id, %s, 240.0, 1.0, 0.24, 'wired', now(), 0"
                             " FROM meters WHERE pole_id = ANY(%s)", (seq, self.poles))


async def _ws_clients(ws_base: str, key: str, poles: list[str], n: int, seconds: float) -> dict:
    lags: list[float] = []
    connected = refused = messages = 0
    handshakes = asyncio.Semaphore(64)
    stop_at = time.time() + seconds

    async def client(i: int) -> None:
        nonlocal connected, refused, messages
        url = f"{ws_base}/api/v1/poles/{poles[i % len(poles)]}/live"
        try:
            async with handshakes:
                ws = await websockets.connect(url, additional_headers={"X-API-Key": key}, open_timeout=60,
                                              max_queue=None)
            connected += 1
            since = time.time()
            async with ws:
                while (left := stop_at - time.time()) > 0:
                    try:
                        text = await asyncio.wait_for(ws.recv(), left)
                    except TimeoutError:
                        break
                    now = time.time()
                    messages += 1
                    for r in json.loads(text):
                        stamped = datetime.fromisoformat(r["event_ts"]).timestamp()
                        if stamped > since:
                            lags.append(now - stamped)
        except (InvalidStatus, ConnectionClosed, OSError, TimeoutError):
            refused += 1

    await asyncio.gather(*(client(i) for i in range(n)))
    lags.sort()
    q = statistics.quantiles(lags, n=100, method="inclusive") if len(lags) > 1 else [float("nan")] * 99
    return {"clients": n, "connected": connected, "refused_or_dropped": refused, "messages": messages,
            "readings": len(lags), "lag_p50_ms": q[49] * 1000, "lag_p99_ms": q[98] * 1000,
            "lag_max_ms": (lags[-1] if lags else float("nan")) * 1000}


def websocket_clients(ws_base: str, key: str, db_url: str, poles: list[str], n: int, seconds: float) -> dict:
    with LiveWriter(db_url, poles, period_s=0.5):
        return asyncio.run(_ws_clients(ws_base, key, poles, n, seconds))
