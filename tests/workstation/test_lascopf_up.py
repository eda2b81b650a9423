"""`lascopf up` as a user runs it (a subprocess, on loopback ports chosen here): every service
healthy, the first scheduled dispatch run by Airflow's real scheduler and stored, Prometheus
scraping every target with the alert rules loaded; then `lascopf down` from another process
leaves no process of it behind."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from data_engineering.embedded.postgres import PostgresServer
from data_engineering.embedded.process import free_port
from data_engineering.workstation.supervisor import STATE_FILE, alive

pytestmark = pytest.mark.slow
PORTS = ("UP_POSTGRES_PORT", "UP_KAFKA_PORT", "UP_S3_PORT", "UP_AIRFLOW_PORT", "UP_PROMETHEUS_PORT",
         "UP_PUSHGATEWAY_PORT", "UP_INGEST_METRICS_PORT", "API_PORT")
CLI = [sys.executable, "-m", "data_engineering.cli"]


def _until(check, timeout_s: float, what: str):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        assert time.monotonic() < deadline, what()
        time.sleep(2)
    return result


def _ours(marker: str) -> list[int]:
    """Processes whose environment names this test's EMBEDDED_DIR: everything `up` started."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_lascopf_up_runs_the_platform_live_and_down_stops_it(tmp_path: Path) -> None:
    missing = [b for b in ("prometheus", "prometheus-pushgateway") if shutil.which(b) is None]
    assert not missing, f"{missing} not installed: scripts/ensure-tools.sh installs them (Debian packages)"
    ports = {name: free_port() for name in PORTS}
    home = tmp_path / "lascopf"
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "EMBEDDED_DIR": str(home),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "LAKE_URL", "S3_ENDPOINT", "AIRFLOW_API_URL"):
        env.pop(name, None)
    out = tmp_path / "up.out"
    began = time.perf_counter()
    with out.open("wb") as sink:
        up = subprocess.Popen([*CLI, "up"], env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    logs = home / "up" / "logs"

    def tail() -> str:
        return out.read_text()[-3000:] + "".join(f"\n--- {p.name}\n{p.read_text()[-1500:]}" for p in logs.glob("*.log"))

    try:
        _until(lambda: "platform up in" in out.read_text() or up.poll() is not None, 600, tail)
        assert up.poll() is None, tail()
        ready_s = time.perf_counter() - began
        text = out.read_text()
        assert "admin / " in text and f"127.0.0.1:{ports['UP_AIRFLOW_PORT']}" in text, text

        airflow = f"http://127.0.0.1:{ports['UP_AIRFLOW_PORT']}"
        health = httpx.get(f"{airflow}/api/v2/monitor/health", timeout=10).json()
        assert {part["status"] for part in health.values()} == {"healthy"}, health
        assert httpx.get(f"http://127.0.0.1:{ports['API_PORT']}/health", timeout=10).status_code == 200

        prometheus = f"http://127.0.0.1:{ports['UP_PROMETHEUS_PORT']}"

        def targets() -> dict[str, str]:
            active = httpx.get(f"{prometheus}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
            return {t["labels"]["job"]: t["health"] for t in active}

        _until(lambda: set(targets().values()) == {"up"} and len(targets()) == 4, 120, lambda: targets())
        groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
        assert sum(len(g["rules"]) for g in groups) > 0, groups

        airflow_db = f"postgresql://postgres@127.0.0.1:{ports['UP_POSTGRES_PORT']}/airflow"
        platform_db = f"postgresql://postgres@127.0.0.1:{ports['UP_POSTGRES_PORT']}/lascopf"

        def scheduled_dispatch() -> tuple | None:
            with psycopg.connect(airflow_db, autocommit=True) as conn:
                return conn.execute("SELECT run_id, state FROM dag_run WHERE dag_id = 'lascopf_dispatch' AND "
                                    "run_type = 'scheduled' AND state IN ('success', 'failed') "
                                    "ORDER BY start_date LIMIT 1").fetchone()

        run_id, state = _until(scheduled_dispatch, 600, tail)
        with psycopg.connect(airflow_db, autocommit=True) as conn:
            tasks = conn.execute("SELECT task_id, state, EXTRACT(EPOCH FROM end_date - start_date), "
                                 "EXTRACT(EPOCH FROM start_date - queued_dttm) FROM task_instance "
                                 "WHERE dag_id = 'lascopf_dispatch' AND run_id = %s ORDER BY start_date",
                                 (run_id,)).fetchall()
        assert state == "success", (tasks, tail())
        with psycopg.connect(platform_db, autocommit=True) as conn:
            assert conn.execute("SELECT count(*) FROM lascopf_executions WHERE status = 'optimal'").fetchone()[0]
        print(json.dumps({"ready_s": round(ready_s, 1), "dispatch_run": run_id, "tasks": [
            {"task": t, "state": s, "run_s": round(float(d), 2), "queued_to_start_s": round(float(q or 0), 2)}
            for t, s, d, q in tasks]}))
        groups_started = json.loads((home / "up" / STATE_FILE).read_text())["groups"]
    finally:
        down = subprocess.run([*CLI, "down"], env=env, capture_output=True, text=True, timeout=300)
        up.wait(timeout=120)
    assert down.returncode == 0, down.stderr
    assert not [g for g in groups_started.values() if alive(g)]
    assert not (home / "up" / STATE_FILE).exists()
    assert _ours(f"EMBEDDED_DIR={home}") == [], "processes left behind by lascopf up"
    shutil.rmtree(PostgresServer(home / "up" / "postgres").data_dir)  # outside tmp_path when run as root
