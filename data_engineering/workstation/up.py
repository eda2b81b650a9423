"""`lascopf up`: PostgreSQL (platform and Airflow databases), Tansu, the lake on moto's S3 server,
migrations and topics, a landed history, the real-time simulator, the ingest worker, the API,
Airflow (api-server, scheduler, dag-processor, triggerer) and Prometheus with its Pushgateway;
each in its own process group, each logging to `<embedded_dir>/up/logs/<service>.log`."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from data_engineering.embedded.kafka import TansuBroker
from data_engineering.embedded.postgres import PostgresServer
from data_engineering.embedded.process import LOOPBACK, wait_for_port
from data_engineering.embedded.s3 import ACCESS_KEY, SECRET_KEY
from data_engineering.settings import Settings
from data_engineering.workstation import airflow, prometheus
from data_engineering.workstation.supervisor import Supervisor

LAKE_BUCKET = "lascopf-lake"
HISTORY_MARK = "history-landed"
AIRFLOW_USER = "admin"
CLI = [sys.executable, "-m", "data_engineering.cli"]


@dataclass
class Endpoint:
    service: str
    url: str
    login: str = ""


@dataclass
class Workstation:
    settings: Settings
    supervisor: Supervisor
    endpoints: list[Endpoint] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    airflow_password: str = ""
    airflow_db: str = ""
    new_password: bool = False

    @property
    def home(self) -> Path:
        return self.supervisor.state_dir


def _wait_http(url: str, timeout_s: float, proc, log: Path) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode} before {url} answered; see {log}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} not healthy after {timeout_s:.0f} s; see {log}")
        time.sleep(0.5)


def _servers(ws: Workstation) -> None:
    s, sup = ws.settings, ws.supervisor
    pg = PostgresServer(ws.home / "postgres", port=s.up_postgres_port)
    pg.log_path = sup.log_path("postgres")
    pg.start()
    sup.adopt("postgres", pg.proc)
    platform_db, airflow_db = pg.create_database("lascopf"), pg.create_database("airflow")
    broker = TansuBroker(port=s.up_kafka_port, log_path=sup.log_path("kafka")).start()
    sup.adopt("kafka", broker.proc)
    s3 = sup.spawn("s3", [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(s.up_s3_port)],
                   dict(os.environ))
    wait_for_port(s.up_s3_port, 60, s3, sup.log_path("s3"))
    airflow_url = f"http://{LOOPBACK}:{s.up_airflow_port}"
    ws.airflow_password, ws.new_password = airflow.admin_password(ws.home / "airflow", AIRFLOW_USER)
    ws.env = {"DATABASE_URL": platform_db, "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
              "LAKE_URL": f"s3://{LAKE_BUCKET}", "S3_ENDPOINT": f"{LOOPBACK}:{s.up_s3_port}",
              "S3_ACCESS_KEY": ACCESS_KEY, "S3_SECRET_KEY": SECRET_KEY,
              "PUSHGATEWAY_URL": f"http://{LOOPBACK}:{s.up_pushgateway_port}",
              "AIRFLOW_API_URL": airflow_url, "AIRFLOW_USERNAME": AIRFLOW_USER,
              "AIRFLOW_PASSWORD": ws.airflow_password, "API_HOST": LOOPBACK, "API_PORT": str(s.api_port),
              "METRICS_PORT": str(s.up_ingest_metrics_port)}
    ws.airflow_db = airflow_db
    ws.endpoints += [Endpoint("PostgreSQL", platform_db), Endpoint("Airflow metadata", airflow_db),
                     Endpoint("Kafka (Tansu)", broker.bootstrap_servers),
                     Endpoint("Lake (moto S3)", f"http://{LOOPBACK}:{s.up_s3_port}/{LAKE_BUCKET}",
                              f"{ACCESS_KEY} / {SECRET_KEY}")]


def _child_env(ws: Workstation) -> dict[str, str]:
    return {**os.environ, **ws.env}


def _data(ws: Workstation) -> None:
    """Migrations, then, on the first start, a landed and loaded SCADA history (the forecast is
    fitted on about a week) and one dispatch window of telemetry up to now: the first scheduled
    dispatch has complete intervals to solve instead of failing for want of them. That window is
    stored before the real-time simulator starts, which continues each meter's seq from it."""
    sup, env = ws.supervisor, _child_env(ws)
    sup.run("migrate", [*CLI, "db", "migrate"], env)
    mark = ws.home / HISTORY_MARK
    if ws.settings.up_history_days > 0 and not mark.exists():
        s = ws.settings
        sup.run("history", [*CLI, "simulate", "--meters", str(s.up_meters), "--minutes",
                            str(s.dispatch_window_minutes), "--history-days", str(s.up_history_days)], env)
        sup.run("backfill-ingest", [*CLI, "ingest", "--idle-exit", "3"], {**env, "METRICS_PORT": "0"})
        mark.touch()


def _workers(ws: Workstation) -> None:
    s, sup, env = ws.settings, ws.supervisor, _child_env(ws)
    ingest = sup.spawn("ingest", [*CLI, "ingest"], env)
    sup.spawn("simulator", [*CLI, "simulate", "--meters", str(s.up_meters), "--speed", "1",
                            "--minutes", str(365 * 24 * 60)], env)
    api = sup.spawn("api", [*CLI, "api"], env)
    _wait_http(f"http://{LOOPBACK}:{s.up_ingest_metrics_port}/metrics", 120, ingest, sup.log_path("ingest"))
    _wait_http(f"http://{LOOPBACK}:{s.api_port}/health", 120, api, sup.log_path("api"))
    ws.endpoints += [Endpoint("API", f"http://{LOOPBACK}:{s.api_port}/docs",
                              f"admin API key: first start's {sup.log_path('api')}"),
                     Endpoint("Ingest metrics", f"http://{LOOPBACK}:{s.up_ingest_metrics_port}/metrics")]


def _airflow(ws: Workstation) -> None:
    s, sup = ws.settings, ws.supervisor
    home = ws.home / "airflow"
    env = {**_child_env(ws), **airflow.airflow_env(home, ws.airflow_db, s.up_airflow_port,
                                                   AIRFLOW_USER)}
    sup.run("airflow-migrate", [sys.executable, "-m", "airflow", "db", "migrate"], env)
    procs = {name: sup.spawn(name, [sys.executable, "-m", "airflow", *argv], env)
             for name, argv in airflow.commands(s.up_airflow_port)}
    url = ws.env["AIRFLOW_API_URL"]
    _wait_http(f"{url}/api/v2/monitor/health", 300, procs["airflow-api-server"], sup.log_path("airflow-api-server"))
    ws.endpoints.append(Endpoint("Airflow", url, f"{AIRFLOW_USER} / {ws.airflow_password}" if ws.new_password
                                 else f"{AIRFLOW_USER} / (in {home / 'passwords.json'})"))


def _monitoring(ws: Workstation) -> None:
    s, sup = ws.settings, ws.supervisor
    binaries = {name: shutil.which(name) for name in ("prometheus", "prometheus-pushgateway")}
    missing = [name for name, path in binaries.items() if path is None]
    if missing:
        raise RuntimeError(f"{' and '.join(missing)} not installed: run scripts/ensure-tools.sh "
                           "(Debian packages prometheus and prometheus-pushgateway)")
    gateway = f"{LOOPBACK}:{s.up_pushgateway_port}"
    pgw = sup.spawn("pushgateway", [binaries["prometheus-pushgateway"], f"--web.listen-address={gateway}"],
                    dict(os.environ))
    listen = f"{LOOPBACK}:{s.up_prometheus_port}"
    config = prometheus.write_config(ws.home / "prometheus" / "prometheus.yml", {
        "prometheus": listen, "ingest": f"{LOOPBACK}:{s.up_ingest_metrics_port}",
        "api": f"{LOOPBACK}:{s.api_port}", "pushgateway": gateway})
    prom = sup.spawn("prometheus", [binaries["prometheus"], f"--config.file={config}",
                                    f"--storage.tsdb.path={ws.home / 'prometheus' / 'data'}",
                                    f"--web.listen-address={listen}"], dict(os.environ))
    _wait_http(f"http://{gateway}/-/ready", 60, pgw, sup.log_path("pushgateway"))
    _wait_http(f"http://{listen}/-/ready", 60, prom, sup.log_path("prometheus"))
    ws.endpoints += [Endpoint("Prometheus", f"http://{listen}"), Endpoint("Pushgateway", f"http://{gateway}")]


STEPS: tuple[tuple[str, Callable[[Workstation], None]], ...] = (
    ("servers: PostgreSQL, Kafka, lake", _servers), ("migrations and history", _data),
    ("simulator, ingest, API", _workers), ("Airflow", _airflow), ("Prometheus", _monitoring))


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        stop.set()
        raise KeyboardInterrupt  # interrupts a start-up step too; the caller stops what was started

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, handler)
    return stop


def up(settings: Settings, on_step: Callable[[str], None], on_ready: Callable[[Workstation, float], None]) -> int:
    """Start everything, report it ready, then supervise until a signal (or `lascopf down`) or a
    service dying; always stops every child before returning the exit code."""
    home = (settings.embedded_dir / "up").resolve()
    supervisor = Supervisor(home)
    ws = Workstation(settings, supervisor)
    stop = _stop_on_signals()
    began = time.perf_counter()
    try:
        for label, step in STEPS:
            on_step(label)
            step(ws)
        on_ready(ws, time.perf_counter() - began)
        while not stop.wait(2):
            if dead := supervisor.exited():
                on_step(f"stopping: {', '.join(dead)} exited (see {supervisor.logs})")
                return 1
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        supervisor.stop_all()
