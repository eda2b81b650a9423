"""Fault soak of the ingest path: three `lascopf ingest` workers in one consumer group on four
partitions, fed at a fixed rate for ten minutes while workers are killed (SIGKILL) and restarted,
poison arrives from a librdkafka producer, PostgreSQL crashes and recovers, the lake is unreachable
for 20 s and Airflow is a closed port.

    python bench/soak.py [--minutes 10] [--meters 120] [--speed 4]

Prints the faults with the seconds from each to "everything produced by then is committed", and
one JSON line: sent, stored, dead-lettered, lost (must be 0), duplicated in the database and the
lake (must be 0), lake = database. Exits 1 when an invariant is broken.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_engineering.ingestion.soak import Soak, SoakPlan  # noqa: E402

console = Console()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--meters", type=int, default=120)
    parser.add_argument("--speed", type=float, default=4.0, help="simulated seconds per second")
    parser.add_argument("--kill-every", type=float, default=60.0, help="seconds between worker kills (mean)")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's S3 server logs every request
    plan = SoakPlan(duration_s=args.minutes * 60, meters=args.meters, speed=args.speed, kill_every_s=args.kill_every)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lascopf-soak-") as tmp:
        soak = Soak(plan, Path(tmp), on_progress=lambda t, msg: console.log(f"{t:7.1f} s  {msg}"))
        result = soak.run()
        for line in soak.unexpected_exit_logs:
            console.print(f"[red]{line}[/]")

    table = Table(title=f"fault soak: {plan.workers} workers, {plan.partitions} partitions, "
                        f"{result['readings_per_s']:.0f} readings/s for {plan.duration_s / 60:.0f} min")
    for col in ("fault", "at (s)", "over (s)", "back to committed (s)"):
        table.add_column(col)
    for f in result["faults"]:
        table.add_row(f["name"], f"{f['at_s']:.1f}", f"{f['over_s']:.1f}",
                      "never" if f["recovered_s"] is None else f"{f['recovered_s']:.1f}")
    console.print(table)
    verdict = Table(title="every record stored or dead-lettered")
    for col in ("measure", "value"):
        verdict.add_column(col)
    for key in ("sent", "stored", "dead_lettered", "lost", "unexpected", "duplicated_db", "duplicated_lake",
                "lake_equals_db", "pending_lake_objects", "unexpected_exits", "worker_starts",
                "reopt_launch_failures_logged"):
        verdict.add_row(key, str(result[key]))
    console.print(verdict)
    result["wall_s"] = round(time.monotonic() - started, 1)
    print(json.dumps({"bench": "soak", **result}))
    ok = (result["lost"] == 0 and result["unexpected"] == 0 and result["duplicated_db"] == 0
          and result["duplicated_lake"] == 0 and result["lake_equals_db"] and result["unexpected_exits"] == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
