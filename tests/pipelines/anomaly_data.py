"""A simulated run's transformer phase records and AMI readings copied straight into their tables:
what the anomaly pipeline reads, without the broker and the ingest worker in between."""

from __future__ import annotations

from datetime import timedelta

from data_engineering.storage.database import Database
from tests.simulation.streams import Run

PHASE = ("ts", "point_id", "point_kind", "feeder_id", *(f"{q}_{p}_{u}" for q, u in
                                                       (("v", "v"), ("i", "a"), ("p", "kw"), ("q", "kvar"))
                                                       for p in "abc"), "freq_hz", "is_simulation")
AMI = ("event_ts", "meter_id", "pole_id", "seq", "voltage_v", "current_a", "power_kw", "network_profile")


def store_run(db: Database, run: Run) -> None:
    start = run.sim.config.start
    end = start + timedelta(seconds=run.sim.config.duration_s)
    with db.transaction() as conn:
        for table in ("phase_measurements", "ami_readings"):
            conn.execute("SELECT lascopf_ensure_partitions(%s, %s, %s)", (table, start, end))
        with conn.cursor().copy(f"COPY phase_measurements ({', '.join(PHASE)}, received_ts, ingest_batch)"
                                " FROM STDIN") as copy:
            for r in run.phases.values():
                copy.write_row([r[c] for c in PHASE] + [r["ts"], 0])
        with conn.cursor().copy(f"COPY ami_readings ({', '.join(AMI)}, received_ts, ingest_batch) FROM STDIN") as copy:
            for r in run.ami.values():
                copy.write_row([r.get(c, "wired") for c in AMI] + [r["event_ts"], 0])
