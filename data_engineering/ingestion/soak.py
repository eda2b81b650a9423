"""Fault soak of the ingest path: a fleet of `lascopf ingest` processes in one consumer group, fed at a
fixed rate, while workers are killed with SIGKILL and restarted, a producer that is not ours sends
poison, PostgreSQL crashes and comes back, the lake goes away, and Airflow is a closed port.

At the end every record must be stored or dead-lettered, exactly once by its natural key, and the
lake must hold exactly the stored rows. Used by `bench/soak.py` (ten minutes) and by a short
variant in the test suite. Servers are real local processes on loopback ports.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition
from psycopg import sql

from data_engineering.contracts.telemetry import telemetry_sources
from data_engineering.embedded.kafka import TansuBroker
from data_engineering.embedded.postgres import PostgresServer
from data_engineering.embedded.process import free_port
from data_engineering.embedded.proxy import CuttableProxy
from data_engineering.embedded.s3 import ACCESS_KEY, SECRET_KEY, MotoS3Server
from data_engineering.ingestion.poison import ANY_REASON, Expected, PoisonProducer
from data_engineering.ingestion.topics import ensure_topics
from data_engineering.simulation.engine import SimulationConfig, SimulationReport, Simulator
from data_engineering.simulation.publish import make_producer, publish
from data_engineering.storage.archive import read_source
from data_engineering.storage.database import Database
from data_engineering.storage.lake import Lake, S3Lake
from data_engineering.storage.migrations import migrate

log = logging.getLogger(__name__)
PREFIX = "soak."


@dataclass(frozen=True)
class SoakPlan:
    duration_s: float = 600.0
    meters: int = 120
    speed: float = 4.0  # simulated seconds per wall second: readings/s = meters × speed
    partitions: int = 4
    workers: int = 3
    kill_every_s: float = 60.0  # a random worker killed with SIGKILL this often …
    restart_after_s: float = 3.0  # … and started again this much later (a restart policy)
    poison_per_s: float = 3.0
    postgres_crash_at: float | None = 0.3  # share of the run
    postgres_down_s: float = 5.0
    lake_outage_at: float | None = 0.6
    lake_outage_s: float = 20.0
    session_timeout_ms: int = 6_000
    drain_timeout_s: float = 180.0
    seed: int = 1

    @classmethod
    def short(cls) -> SoakPlan:
        """The test suite's variant: every fault once or twice in about a minute and a half."""
        return cls(duration_s=75.0, meters=40, speed=4.0, kill_every_s=25.0, poison_per_s=4.0,
                   postgres_crash_at=0.3, postgres_down_s=3.0, lake_outage_at=0.55, lake_outage_s=20.0,
                   drain_timeout_s=150.0)


@dataclass
class Fault:
    name: str
    at_s: float
    over_s: float  # when the fault ended (the server back, the worker killed)
    recovered_s: float | None = None  # seconds from `over_s` until everything produced by then was committed
    _targets: dict = field(default_factory=dict, repr=False)


class WorkerFleet:
    """`lascopf ingest` processes with a restart policy: a worker that exits is started again, and
    an exit the soak did not cause is counted."""

    def __init__(self, env: dict[str, str], logs: Path, size: int) -> None:
        self.env, self.logs, self.size = env, logs, size
        self.procs: list[subprocess.Popen | None] = [None] * size
        self.killed: set[int] = set()
        self.unexpected_exits: list[str] = []
        self.metric_ports = [free_port() for _ in range(size)]
        self.starts = 0

    def start(self, slot: int) -> None:
        self.starts += 1
        out = open(self.logs / f"worker-{slot}.log", "ab")  # noqa: SIM115 - handed to the child
        env = self.env | {"METRICS_PORT": str(self.metric_ports[slot])}
        self.procs[slot] = subprocess.Popen([sys.executable, "-m", "data_engineering.cli", "ingest"], env=env,
                                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.killed.discard(slot)

    def kill(self, slot: int) -> None:
        proc = self.procs[slot]
        if proc is not None and proc.poll() is None:
            self.killed.add(slot)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()

    def check(self) -> None:
        """Restart whatever exited on its own, and note it."""
        for slot, proc in enumerate(self.procs):
            if proc is not None and proc.poll() is not None and slot not in self.killed:
                tail = (self.logs / f"worker-{slot}.log").read_text(errors="replace")[-1500:]
                self.unexpected_exits.append(f"worker {slot} exited with {proc.returncode}: {tail}")
                log.error("worker %d exited on its own (%s); restarting", slot, proc.returncode)
                self.start(slot)

    def stop(self, timeout_s: float = 60) -> list[int | None]:
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = []
        for proc in self.procs:
            try:
                codes.append(None if proc is None else proc.wait(timeout=timeout_s))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes.append(proc.wait())
        return codes


class Soak:
    def __init__(self, plan: SoakPlan, workdir: Path, on_progress: Callable[[float, str], None] | None = None,
                 kafka_bootstrap: str | None = None) -> None:
        self.plan, self.workdir = plan, Path(workdir)
        self.on_progress = on_progress or (lambda _t, _msg: None)
        self.kafka_bootstrap = kafka_bootstrap
        self.rng = random.Random(plan.seed)
        self.faults: list[Fault] = []
        self.group = f"{PREFIX}ingest-{uuid.uuid4().hex[:6]}"
        self._offsets: KafkaConsumer | None = None

    # -- servers -------------------------------------------------------------------------------------
    def _servers(self, stack: ExitStack) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.pg = PostgresServer(self.workdir / "pg", durable=True, ephemeral=True).start()  # a crash keeps commits
        stack.callback(self.pg.stop)
        self.db = Database(self.pg.create_database("soak"))
        migrate(self.db)
        if self.kafka_bootstrap is None:
            broker = TansuBroker(log_path=self.workdir / "tansu.log").start()
            stack.callback(broker.stop)
            self.kafka_bootstrap = broker.bootstrap_servers
        self.prefix = f"{PREFIX}{uuid.uuid4().hex[:6]}."
        self.sources = telemetry_sources(self.prefix)
        ensure_topics(self.kafka_bootstrap, [s.topic for s in self.sources.values()], self.plan.partitions, ".dlq")
        s3 = MotoS3Server().start()
        stack.callback(s3.stop)
        self.lake_proxy = CuttableProxy(s3.port).start()
        stack.callback(self.lake_proxy.stop)
        self.lake = S3Lake("soak", s3.endpoint, ACCESS_KEY, SECRET_KEY, prefix="raw")  # direct: for the final check

    def _worker_env(self) -> dict[str, str]:
        p = self.plan
        return os.environ | {
            "DATABASE_URL": self.db.url, "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "KAFKA_TOPIC_PREFIX": self.prefix, "KAFKA_CONSUMER_GROUP": self.group,
            "KAFKA_PARTITIONS": str(p.partitions), "KAFKA_SESSION_TIMEOUT_MS": str(p.session_timeout_ms),
            "KAFKA_MAX_POLL_INTERVAL_MS": "60000", "LAKE_URL": "s3://soak/raw", "S3_ENDPOINT": self.lake_proxy.endpoint,
            "S3_ACCESS_KEY": ACCESS_KEY, "S3_SECRET_KEY": SECRET_KEY, "INGEST_BATCH_ROWS": "2000",
            "INGEST_LINGER_MS": "300", "LOG_LEVEL": "INFO",
            # Airflow is a closed port: every re-optimisation launch fails, ingestion must not notice.
            "AIRFLOW_API_URL": f"http://127.0.0.1:{free_port()}", "AIRFLOW_USERNAME": "soak",
            "AIRFLOW_PASSWORD": "soak-closed-port", "REOPT_LOAD_DEVIATION_PCT": "0.5", "REOPT_COOLDOWN_S": "2",
        }

    # -- offsets ---------------------------------------------------------------------------------------
    def _partitions(self) -> list[TopicPartition]:
        return [TopicPartition(s.topic, i) for s in self.sources.values() for i in range(self.plan.partitions)]

    def _offsets_client(self) -> KafkaConsumer:
        """A consumer of the group's offsets that never joins it (no subscription)."""
        if self._offsets is None:
            self._offsets = KafkaConsumer(bootstrap_servers=self.kafka_bootstrap, group_id=self.group,
                                          enable_auto_commit=False)
        return self._offsets

    def _end_offsets(self) -> dict[TopicPartition, int]:
        return self._offsets_client().end_offsets(self._partitions())

    def _committed(self) -> dict[TopicPartition, int]:
        client = self._offsets_client()
        return {tp: client.committed(tp) or 0 for tp in self._partitions()}

    def _fault(self, name: str, at_s: float, over_s: float) -> None:
        fault = Fault(name, round(at_s, 1), round(over_s, 1))
        fault._targets = self._end_offsets()
        self.faults.append(fault)
        self.on_progress(over_s, f"fault: {name}")

    def _track_recovery(self, now_s: float) -> None:
        open_faults = [f for f in self.faults if f.recovered_s is None]
        if not open_faults:
            return
        committed = self._committed()
        for f in open_faults:
            if all(committed.get(tp, 0) >= end for tp, end in f._targets.items()):
                f.recovered_s = round(now_s - f.over_s, 1)

    # -- the run --------------------------------------------------------------------------------------
    def run(self) -> dict:
        p = self.plan
        with ExitStack() as stack:
            self._servers(stack)
            stack.callback(lambda: self._offsets and self._offsets.close(autocommit=False))
            logs = self.workdir / "logs"
            logs.mkdir(exist_ok=True)
            fleet = WorkerFleet(self._worker_env(), logs, p.workers)
            stack.callback(fleet.stop)
            for slot in range(p.workers):
                fleet.start(slot)

            sim_seconds = p.duration_s * p.speed
            config = SimulationConfig(start=datetime.now(UTC) - timedelta(seconds=sim_seconds + 60),
                                      duration_s=sim_seconds, n_meters=p.meters, seed=p.seed,
                                      topic_prefix=self.prefix, ideal_backhaul=False)
            producer = make_producer(self.kafka_bootstrap)
            sim = Simulator(config)
            sim_thread = threading.Thread(target=publish, args=(sim, producer, p.speed), name="soak-sim")
            poison = PoisonProducer(self.kafka_bootstrap, self.sources["ami"].topic, p.poison_per_s, p.seed)
            t0 = time.monotonic()
            sim_thread.start()
            poison.start()

            next_kill = p.kill_every_s * (0.5 + self.rng.random())
            restarts: list[tuple[float, int]] = []
            pg_at = None if p.postgres_crash_at is None else p.postgres_crash_at * p.duration_s
            lake_at = None if p.lake_outage_at is None else p.lake_outage_at * p.duration_s
            lake_down = False
            while sim_thread.is_alive() or time.monotonic() - t0 < p.duration_s:
                now = time.monotonic() - t0
                fleet.check()
                if now >= next_kill:
                    slot = self.rng.randrange(p.workers)
                    fleet.kill(slot)
                    restarts.append((now + p.restart_after_s, slot))
                    self._fault(f"kill -9 worker {slot}", now, now)
                    next_kill = now + p.kill_every_s * (0.5 + self.rng.random())
                for due, slot in [r for r in restarts if r[0] <= now]:
                    fleet.start(slot)
                    restarts.remove((due, slot))
                if pg_at is not None and now >= pg_at:
                    pg_at = None
                    self.pg.crash_restart(down_s=p.postgres_down_s)
                    self._fault(f"PostgreSQL crash, down {p.postgres_down_s:.0f} s", now, time.monotonic() - t0)
                if lake_at is not None and now >= lake_at and not lake_down:
                    self.lake_proxy.cut()
                    lake_down, lake_at = True, now
                    self.on_progress(now, "fault: lake cut")
                if lake_down and now >= lake_at + p.lake_outage_s:
                    self.lake_proxy.restore()
                    lake_down, lake_at = False, None
                    self._fault(f"lake unreachable {p.lake_outage_s:.0f} s", now - p.lake_outage_s, now)
                self._track_recovery(now)
                time.sleep(0.5)
            poison.stop()
            sim_thread.join()
            producer.close()
            for _due, slot in restarts:
                fleet.start(slot)
            self.on_progress(time.monotonic() - t0, "producers done: draining")
            drained = self._drain(fleet, t0)
            exit_codes = fleet.stop()
            launch_failures = _launch_failures(logs)
            result = self._account(sim.report, poison)
        result |= {
            "duration_s": p.duration_s, "readings_per_s": p.meters * p.speed, "workers": p.workers,
            "partitions": p.partitions, "worker_starts": fleet.starts, "drained": drained,
            "unexpected_exits": len(fleet.unexpected_exits), "exit_codes": exit_codes,
            "reopt_launch_failures_logged": launch_failures,
            "faults": [{k: v for k, v in asdict(f).items() if not k.startswith("_")} for f in self.faults],
        }
        self.unexpected_exit_logs = fleet.unexpected_exits
        return result

    def _drain(self, fleet: WorkerFleet, t0: float) -> bool:
        targets = self._end_offsets()
        deadline = time.monotonic() + self.plan.drain_timeout_s
        while time.monotonic() < deadline:
            fleet.check()
            now = time.monotonic() - t0
            self._track_recovery(now)
            committed = self._committed()
            if all(committed.get(tp, 0) >= end for tp, end in targets.items()) and \
                    all(f.recovered_s is not None for f in self.faults):
                return True
            time.sleep(1)
        return False

    def _account(self, report: SimulationReport, poison: PoisonProducer) -> dict:
        return account(self.db, self.lake, self.sources, report, poison.expected)


def _launch_failures(logs: Path) -> int:
    return sum(f.read_text(errors="replace").count("re-optimisation launch failed") for f in logs.glob("*.log"))


# -- the verdict ---------------------------------------------------------------------------------------
KEYS = {"ami": ("meter_id", "seq"), "scada": ("element_type", "element_id", "ts"), "weather": ("station_id", "ts")}


def _keys(rows: list[tuple]) -> tuple[set[tuple], int]:
    return set(rows), len(rows) - len(set(rows))


def _lake_keys(lake: Lake, source: str, key: tuple[str, ...]) -> list[tuple]:
    table = read_source(lake, source, list(key))
    return list(zip(*(table[k].to_pylist() for k in key), strict=True)) if table.num_rows else []


def account(db: Database, lake: Lake, sources: dict, report: SimulationReport, expected: Expected) -> dict:
    """Sent = stored + dead-lettered, by natural key, in the database and the lake alike."""
    stored: dict[str, set[tuple]] = {}
    duplicated_db = duplicated_lake = 0
    lake_differs: dict[str, int] = {}
    with db.connect(autocommit=True) as conn:
        for name, key in KEYS.items():
            cols = sql.SQL(", ").join(sql.Identifier(k) for k in key)
            rows = conn.execute(sql.SQL("SELECT {} FROM {}").format(cols, sql.Identifier(sources[name].table))
                                ).fetchall()
            stored[name], doubled = _keys(rows)
            duplicated_db += doubled
            in_lake, lake_doubled = _keys(_lake_keys(lake, name, key))
            duplicated_lake += lake_doubled
            if in_lake != stored[name]:
                lake_differs[name] = len(in_lake ^ stored[name])
        dead = Counter(dict(conn.execute("SELECT reason, count(*) FROM dead_letters GROUP BY reason").fetchall()))
        pending = conn.execute("SELECT count(*) FROM lake_objects WHERE status = 'pending'").fetchone()[0]
    simulated = {k for k in stored["ami"] if k[0].startswith("m-")}
    foreign = stored["ami"] - simulated
    expected_dead = sum(expected.dead.values())
    named_reasons_ok = all(dead[r] >= n for r, n in expected.dead.items() if r != ANY_REASON)
    sent = (report.readings_delivered + len(expected.stored) + expected_dead + report.scada_records
            + report.weather_records)
    lost_by = {"simulated_readings": max(0, report.readings_delivered - len(simulated)),
               "foreign_readings": len(expected.stored - foreign),
               "dead_letters": max(0, expected_dead - sum(dead.values())),
               "scada": max(0, report.scada_records - len(stored["scada"])),
               "weather": max(0, report.weather_records - len(stored["weather"]))}
    lost = sum(lost_by.values())
    unexpected = (len(foreign - expected.stored) + max(0, sum(dead.values()) - expected_dead)
                  + max(0, len(simulated) - report.readings_delivered))
    return {
        "sent": sent, "stored": sum(len(v) for v in stored.values()), "dead_lettered": sum(dead.values()),
        "lost": lost, "lost_by": {k: v for k, v in lost_by.items() if v}, "unexpected": unexpected,
        "duplicated_db": duplicated_db, "duplicated_lake": duplicated_lake, "lake_equals_db": not lake_differs,
        "lake_differs": lake_differs, "pending_lake_objects": pending, "dead_letter_reasons": dict(dead),
        "dead_letter_reasons_as_expected": named_reasons_ok, "poison_messages": expected.messages,
    }
