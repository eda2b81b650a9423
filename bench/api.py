"""API benchmark: p50 / p99 latency and requests/s of the pole-summary and anomalies routes over a
day of 1 Hz readings from 100 meters (8.64 M rows), served from the rollups; the baseline is the
same pole summary computed from the raw readings, measured in the same run. Then the API under
load (bench/api_load.py): 1, 16, 64 and 256 concurrent clients with and without valid credentials,
16 parallel CSV exports, and --ws-clients WebSocket clients on live readings with their lag.

    python bench/api.py [--meters 100] [--hours 24] [--requests 300] [--threads 4] [--ws-clients 1000]

Embedded PostgreSQL (non-durable, in a temp dir); the readings are generated with NumPy and loaded
through the ingest writer, the rollups and sag events refreshed as the ami_analytics DAG does; the
API runs in its own process (`lascopf api`, uvicorn) and is called over loopback. Prints a table and
one JSON line; writes bench/results/api.png.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api_load import store_an_execution, sweep, websocket_clients  # noqa: E402

from data_engineering.analytics.queries import query  # noqa: E402
from data_engineering.analytics.rollups import refresh_rollups  # noqa: E402
from data_engineering.analytics.sags import detect_sags  # noqa: E402
from data_engineering.api.keys import create_api_key  # noqa: E402
from data_engineering.api.security import Role  # noqa: E402
from data_engineering.contracts.telemetry import telemetry_sources  # noqa: E402
from data_engineering.embedded.postgres import PostgresServer  # noqa: E402
from data_engineering.embedded.process import free_port  # noqa: E402
from data_engineering.simulation.ami_history import ami_history  # noqa: E402
from data_engineering.simulation.assets import asset_model  # noqa: E402
from data_engineering.simulation.engine import SimulationConfig, Simulator  # noqa: E402
from data_engineering.storage.assets import upsert_asset_model  # noqa: E402
from data_engineering.storage.backfill import backfill  # noqa: E402
from data_engineering.storage.database import Database  # noqa: E402
from data_engineering.storage.migrations import migrate  # noqa: E402

console = Console(width=160)
RESULTS = Path(__file__).resolve().parent / "results"
START = datetime(2026, 11, 2, tzinfo=UTC)
# The pole summary computed straight from the readings: what the rollups save.
RAW_SUMMARY = """
SELECT count(*) AS readings, sum(mean_kw) / 60.0 AS energy_kwh, avg(mean_kw) AS mean_kw, max(mean_kw) AS peak_kw,
       min(min_v) AS voltage_min_v, max(max_v) AS voltage_max_v
FROM (SELECT minute, sum(kw) AS mean_kw, min(min_v) AS min_v, max(max_v) AS max_v
      FROM (SELECT meter_id, date_trunc('minute', event_ts) AS minute, avg(power_kw) AS kw,
                   min(voltage_v) AS min_v, max(voltage_v) AS max_v
            FROM ami_readings WHERE pole_id = %(pole_id)s AND event_ts >= %(start)s AND event_ts < %(end)s
            GROUP BY meter_id, minute) per_meter
      GROUP BY minute) per_minute
"""


def load_day(db: Database, meters: int, hours: float) -> tuple[Simulator, int, float]:
    sim = Simulator(SimulationConfig(start=START, duration_s=hours * 3600, n_meters=meters, seed=5,
                                     random_sags_per_hour=0.5))
    with db.transaction() as conn:
        upsert_asset_model(conn, asset_model(sim.fleet, sim.grid, sim.config.nominal_voltage_v))
    chunks = int(hours)
    started = time.perf_counter()
    with Progress(console=console) as progress:
        task = progress.add_task(f"load {meters} meters x {hours:g} h at 1 Hz", total=chunks)

        def tick(tables):  # noqa: ANN001, ANN202
            for table in tables:
                yield table
                progress.advance(task)

        rows = backfill(db, telemetry_sources()["ami"], tick(ami_history(sim, START, int(hours * 3600),
                                                                          missing_prob=0.001)))
    return sim, rows, time.perf_counter() - started


def timed(label: str, fn, *args) -> float:  # noqa: ANN001
    started = time.perf_counter()
    with console.status(label):
        fn(*args)
    return time.perf_counter() - started


def serve(db_url: str, port: int, log: Path, ws_clients: int) -> subprocess.Popen:
    """The API with its default capacity (pool, timeouts, in-flight cap); the rate limits and stream
    caps raised, so that the sweep measures capacity rather than the limiter, from one key."""
    env = os.environ | {"DATABASE_URL": db_url, "API_PORT": str(port), "LOG_LEVEL": "WARNING",
                        "API_RATE_LIMIT_KEY": "1000000/second", "API_RATE_LIMIT_ANONYMOUS": "1000000/second",
                        "API_WS_MAX_TOTAL": str(ws_clients), "API_WS_MAX_PER_CALLER": str(ws_clients)}
    process = subprocess.Popen([sys.executable, "-m", "data_engineering.cli", "api"], env=env,
                               stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the API did not start; see {log}")


def latencies(client: httpx.Client, make_request, n: int) -> list[float]:  # noqa: ANN001
    out = []
    for _ in range(n):
        method, url, params = make_request()
        started = time.perf_counter()
        response = client.request(method, url, params=params)
        out.append(time.perf_counter() - started)
        response.raise_for_status()
    return out


def throughput(base: str, headers: dict, make_request, threads: int, seconds: float) -> float:  # noqa: ANN001
    done = [0] * threads
    stop = time.monotonic() + seconds

    def run(i: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            while time.monotonic() < stop:
                method, url, params = make_request()
                client.request(method, url, params=params).raise_for_status()
                done[i] += 1

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done) / seconds


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if q < 100 else max(values) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meters", type=int, default=100)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--requests", type=int, default=300, help="sequential requests per route (latency)")
    parser.add_argument("--threads", type=int, default=4, help="concurrent clients (throughput)")
    parser.add_argument("--seconds", type=float, default=10.0, help="throughput run length per route")
    parser.add_argument("--levels", default="1,16,64,256", help="concurrent clients of the sweep")
    parser.add_argument("--sweep-requests", type=int, default=2048, help="requests per sweep level")
    parser.add_argument("--ws-clients", type=int, default=1000)
    parser.add_argument("--ws-seconds", type=float, default=30.0, help="how long the WebSocket clients listen")
    args = parser.parse_args()
    rng = random.Random(7)
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        server = PostgresServer(Path(tmp) / "pg", durable=False, ephemeral=True).start()
        stack.callback(server.stop)
        db = Database(server.create_database("bench"))
        migrate(db)
        sim, rows, load_s = load_day(db, args.meters, args.hours)
        end = START + timedelta(hours=args.hours)
        rollup_s = timed("refresh rollups (as the ami_analytics DAG)", refresh_rollups, db, START, end)
        sags_s = timed("detect sags", detect_sags, db, START, end)
        with db.transaction() as conn:
            conn.execute("ANALYZE")
            _, key = create_api_key(conn, "bench", Role.viewer)
            sag_events = conn.execute("SELECT count(*) FROM voltage_sag_events").fetchone()[0]
        execution_id, csv_rows = store_an_execution(db, START)
        port = free_port()
        api = serve(db.url, port, Path(tmp) / "api.log", args.ws_clients)
        stack.callback(api.terminate)
        base, headers = f"http://127.0.0.1:{port}", {"X-API-Key": key}
        poles = sim.fleet.pole_ids

        def pole_summary():  # noqa: ANN202
            return "GET", f"/api/v1/poles/{rng.choice(poles)}/summary", {"start": START.isoformat(),
                                                                        "end": end.isoformat()}

        def anomalies():  # noqa: ANN202
            hours = rng.uniform(1, args.hours)
            start = START + timedelta(hours=rng.uniform(0, args.hours - hours))
            return "GET", "/api/v1/anomalies", {"start": start.isoformat(),
                                                "end": (start + timedelta(hours=hours)).isoformat()}

        figures: dict[str, dict] = {}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            for name, make in (("pole_summary", pole_summary), ("anomalies", anomalies)):
                latencies(client, make, 20)  # warm the pool and caches
                lat = latencies(client, make, args.requests)
                figures[name] = {"p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
                                 "rps": throughput(base, headers, make, args.threads, args.seconds), "samples": lat}
        levels = tuple(int(c) for c in args.levels.split(","))
        load = sweep(base, key, levels, args.sweep_requests, execution_id, csv_rows)
        ws = websocket_clients(base.replace("http://", "ws://"), key, db.url, list(poles), args.ws_clients,
                               args.ws_seconds)
        baseline = []
        with db.connect(autocommit=True) as conn:
            for _ in range(min(args.requests, 50)):
                started = time.perf_counter()
                conn.execute(RAW_SUMMARY, {"pole_id": rng.choice(poles), "start": START, "end": end}).fetchone()
                baseline.append(time.perf_counter() - started)
        rollup_direct = []
        with db.connect(autocommit=True) as conn:
            for _ in range(min(args.requests, 50)):
                started = time.perf_counter()
                conn.execute(query("pole_summary"), {"pole_id": rng.choice(poles), "start": START, "end": end})
                rollup_direct.append(time.perf_counter() - started)

    summary = {
        "readings": rows, "meters": args.meters, "hours": args.hours, "load_s": round(load_s, 1),
        "rollup_refresh_s": round(rollup_s, 1), "sag_detection_s": round(sags_s, 1), "sag_events": sag_events,
        **{f"{name}_{k}": round(v, 2) for name, f in figures.items() for k, v in f.items() if k != "samples"},
        "raw_summary_p50_ms": round(pct(baseline, 50), 1),
        "rollup_summary_sql_p50_ms": round(pct(rollup_direct, 50), 2),
        "pole_summary_speedup_vs_raw": round(pct(baseline, 50) / figures["pole_summary"]["p50_ms"], 1),
        "target_p99_ms": 100,
    }
    table = Table(title=f"API over {rows:,} readings ({args.meters} meters, {args.hours:g} h at 1 Hz)")
    for col in ("route", "p50 ms", "p99 ms", f"req/s ({args.threads} clients)"):
        table.add_column(col, justify="right")
    for name, f in figures.items():
        table.add_row(name, f"{f['p50_ms']:.1f}", f"{f['p99_ms']:.1f}", f"{f['rps']:.0f}")
    table.add_row("pole summary from raw readings (SQL, baseline)", f"{pct(baseline, 50):.1f}",
                  f"{pct(baseline, 99):.1f}", "")
    console.print(table)
    console.print(f"load {load_s:.0f} s, rollup refresh {rollup_s:.1f} s, sag detection {sags_s:.1f} s "
                  f"({sag_events} events); pole summary {summary['pole_summary_speedup_vs_raw']}x faster than raw")
    _print_load(load, ws)
    _plot(figures)
    print(json.dumps({"bench": "api", **summary, "sweep": [{k: round(v, 1) if isinstance(v, float) else v
                                                            for k, v in row.items()} for row in load],
                      "websockets": {k: round(v, 1) if isinstance(v, float) else v for k, v in ws.items()}}))


def _print_load(load: list[dict], ws: dict) -> None:
    table = Table(title="API under concurrent load (GET /api/v1/topology unless said; clients in this process)")
    columns = ("load", "clients", "requests", "p50_ms", "p99_ms", "max_ms", "rps", "2xx", "4xx", "503",
               "5xx_other", "transport_errors", "over_2s")
    for col in columns:
        table.add_column(col, justify="right")
    for row in load:
        table.add_row(*(f"{row[c]:.1f}" if isinstance(row[c], float) else str(row[c]) for c in columns))
    console.print(table)
    for row in load:
        if "complete_bodies" in row:
            console.print(f"{row['load']}: {row['complete_bodies']} of {row['clients']} exports complete")
    console.print(f"WebSockets: {ws['connected']} of {ws['clients']} clients connected "
                  f"({ws['refused_or_dropped']} refused or dropped), {ws['messages']:,} messages, "
                  f"{ws['readings']:,} live readings; lag p50 {ws['lag_p50_ms']:.0f} ms, "
                  f"p99 {ws['lag_p99_ms']:.0f} ms, "
                  f"max {ws['lag_max_ms']:.0f} ms (readings written every 0.5 s; API_STREAM_POLL_S 1 s)")


def _plot(figures: dict[str, dict]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, f in figures.items():
        ax.hist([s * 1000 for s in f["samples"]], bins=40, alpha=0.6, label=f"{name} (p99 {f['p99_ms']:.1f} ms)")
    ax.axvline(100, color="red", linestyle="--", label="target p99 100 ms")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("requests")
    ax.set_title("API latency over a day of 1 Hz AMI data")
    ax.legend()
    RESULTS.mkdir(exist_ok=True)
    fig.tight_layout()
    fig.savefig(RESULTS / "api.png", dpi=120)


if __name__ == "__main__":
    main()
