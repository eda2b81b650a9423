"""Ingest benchmark: sustained AMI readings/s from Kafka to PostgreSQL + lake, the worker's memory
over the run, and the ratio to a plain COPY of the same rows measured in the same run.

    python bench/ingest.py [--readings 5000000] [--meters 2000] [--meters-per-pole 4] [--writers 2]

Servers are embedded (durable PostgreSQL, Tansu, a lake directory). The topic is filled first
(untimed); then an ingest worker runs in its own process, scraped through its Prometheus endpoint;
then the stored rows are copied out and COPYed into an identical empty table (the baseline).
Prints a table and one JSON line; writes bench/results/ingest.png when matplotlib is present.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_engineering.embedded.process import free_port  # noqa: E402
from data_engineering.runtime import open_platform  # noqa: E402
from data_engineering.settings import Settings  # noqa: E402
from data_engineering.simulation.engine import SimulationConfig, Simulator  # noqa: E402
from data_engineering.simulation.publish import make_producer, publish  # noqa: E402

console = Console()
RESULTS = Path(__file__).resolve().parent / "results"


def fill_topic(platform, readings: int, meters: int, meters_per_pole: int) -> tuple[int, int]:  # noqa: ANN001
    """Returns readings delivered and AMI messages sent."""
    seconds = -(-readings // meters)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=seconds + 3600)  # inside the event window
    config = SimulationConfig(start=start, duration_s=seconds, n_meters=meters,
                              meters_per_pole=meters_per_pole, seed=1,
                              topic_prefix=platform.settings.kafka_topic_prefix, weather_interval_s=300)
    producer = make_producer(platform.bootstrap_servers)
    with Progress(console=console) as progress:
        task = progress.add_task("fill topic (untimed)", total=seconds)
        report = publish(Simulator(config), producer, on_tick=lambda t, _: progress.update(task, completed=t))
    producer.close()
    return report.readings_delivered, report.ami_messages


def scrape(port: int) -> float:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith('lascopf_ingest_records_total{source="ami"}'):
            return float(line.split()[-1])
    return 0.0


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def run_worker(platform, expected: int, env: dict[str, str]) -> dict:  # noqa: ANN001
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "data_engineering.cli", "ingest", "--idle-exit", "5"],
                            env=os.environ | env | {"METRICS_PORT": str(port), "LOG_LEVEL": "WARNING"})
    samples = []  # (t, stored, rss)
    t0 = time.monotonic()
    with Progress(console=console) as progress:
        task = progress.add_task("ingest (timed)", total=expected)
        while proc.poll() is None:
            done = scrape(port)
            samples.append((time.monotonic() - t0, done, rss_mb(proc.pid)))
            progress.update(task, completed=done)
            if done >= expected:
                peak = rss_mb(proc.pid, "VmHWM")
                proc.terminate()
                break
            time.sleep(0.25)
        else:
            peak = max(s[2] for s in samples)
    proc.wait()
    started = next(s for s in samples if s[1] > 0)
    finished = next(s for s in samples if s[1] >= expected)
    rows = finished[1] - started[1]
    quarters = [next(s[2] for s in samples if s[1] >= expected * q) for q in (0.25, 0.5, 0.75, 1.0)]
    return {"readings": int(finished[1]), "seconds": finished[0] - started[0],
            "readings_per_s": rows / (finished[0] - started[0]), "peak_rss_mb": peak,
            "rss_mb_at_25_50_75_100pct": [round(q, 1) for q in quarters], "samples": samples}


def plain_copy(platform, workdir: Path) -> dict:  # noqa: ANN001
    """COPY the stored rows out to a file (untimed), then into an identical empty table (timed)."""
    dump = workdir / "ami.csv"
    with platform.db.connect(autocommit=True) as conn, open(dump, "wb") as out:
        with conn.cursor().copy("COPY (SELECT * FROM ami_readings) TO STDOUT (FORMAT csv)") as copy:
            for chunk in copy:
                out.write(chunk)
        conn.execute("SELECT lascopf_create_time_table('ami_copy_baseline', "
                     "'LIKE ami_readings INCLUDING ALL', 'event_ts', interval '1 day')")
        lo, hi = conn.execute("SELECT min(event_ts), max(event_ts) FROM ami_readings").fetchone()
        conn.execute("SELECT lascopf_ensure_partitions('ami_copy_baseline', %s, %s)", (lo, hi))
        rows = conn.execute("SELECT count(*) FROM ami_readings").fetchone()[0]
        started = time.perf_counter()
        with conn.transaction(), conn.cursor().copy("COPY ami_copy_baseline FROM STDIN (FORMAT csv)") as copy, \
                open(dump, "rb") as src:
            while chunk := src.read(1 << 20):
                copy.write(chunk)
        seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}


def key_claims(platform) -> dict:  # noqa: ANN001
    """The natural-key mechanism's own cost: claiming every stored reading's (meter_id, seq) in an
    empty copy of the key table, as the writer does per batch (timed)."""
    with platform.db.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE ami_keys_baseline (LIKE ami_reading_keys INCLUDING ALL)")
        started = time.perf_counter()
        with conn.transaction():
            rows = conn.execute("INSERT INTO ami_keys_baseline (seq, meter_id, event_ts)"
                                " SELECT seq, meter_id, event_ts FROM ami_readings ON CONFLICT DO NOTHING").rowcount
        seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}


def plot(result: dict, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    t, done, rss = zip(*result["samples"], strict=True)
    fig, (a, b) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    a.plot(t, [d / 1e6 for d in done])
    a.set_ylabel("readings stored (M)")
    a.set_title(f"ingest: {result['readings_per_s']:,.0f} readings/s")
    b.plot(t, rss)
    b.set_ylabel("worker RSS (MB)")
    b.set_xlabel("s")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=5_000_000)
    parser.add_argument("--meters", type=int, default=2_000)
    parser.add_argument("--meters-per-pole", type=int, default=4,
                        help="meters behind one gateway: readings per gateway message ≈ this × its batch interval")
    parser.add_argument("--writers", type=int, default=Settings(_env_file=None).ingest_writers,
                        help="INGEST_WRITERS for the worker: batches made durable at once")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lascopf-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        settings = Settings(_env_file=None, embedded_dir=workdir / "embedded", lake_url=f"file://{workdir}/lake",
                            kafka_topic_prefix="bench.", kafka_partitions=4)
        platform = open_platform(settings, stack, durable=True, ephemeral=True)
        expected, messages = fill_topic(platform, args.readings, args.meters, args.meters_per_pole)
        env = platform.env() | {"KAFKA_TOPIC_PREFIX": "bench.", "KAFKA_CONSUMER_GROUP": "bench",
                                "INGEST_WRITERS": str(args.writers)}
        ingest = run_worker(platform, expected, env)
        baseline = plain_copy(platform, workdir)
        keys = key_claims(platform)
        lake_files = sum(1 for _ in (workdir / "lake").rglob("*.parquet"))

    ratio = ingest["readings_per_s"] / baseline["rows_per_s"]
    title = (f"Kafka → PostgreSQL + lake: {expected:,} AMI readings in {messages:,} gateway messages "
             f"({expected / messages:.1f} readings each), {args.writers} writer(s), {os.cpu_count()} cores")
    table = Table(title=title)
    for col in ("measure", "value"):
        table.add_column(col)
    table.add_row("end-to-end readings/s", f"{ingest['readings_per_s']:,.0f}")
    table.add_row("plain COPY rows/s (same rows, same run)", f"{baseline['rows_per_s']:,.0f}")
    table.add_row("ratio ingest / plain COPY", f"{ratio:.2f}")
    key_share = keys["seconds"] / ingest["seconds"]
    table.add_row("natural-key claims rows/s (ami_reading_keys, same rows)", f"{keys['rows_per_s']:,.0f}")
    table.add_row("key claims as a share of ingest time", f"{key_share:.1%}")
    table.add_row("worker peak RSS", f"{ingest['peak_rss_mb']:.0f} MB")
    table.add_row("worker RSS at 25/50/75/100 %", " / ".join(f"{x:.0f}" for x in ingest["rss_mb_at_25_50_75_100pct"]))
    table.add_row("lake objects", f"{lake_files:,}")
    console.print(table)
    plot(ingest, RESULTS / "ingest.png")
    summary = {k: v for k, v in ingest.items() if k != "samples"} | {
        "copy_rows_per_s": baseline["rows_per_s"], "ratio_to_copy": ratio, "lake_objects": lake_files,
        "key_claim_rows_per_s": keys["rows_per_s"], "key_claim_share_of_ingest": key_share,
        "readings_per_message": expected / messages, "meters_per_pole": args.meters_per_pole,
        "writers": args.writers}
    print(json.dumps({"bench": "ingest", **summary}))


if __name__ == "__main__":
    main()
