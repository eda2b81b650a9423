"""A hand-written asset model and readings small enough to check the analytics by hand."""

from __future__ import annotations

from datetime import datetime

from data_engineering.storage.database import Database

ASSETS = (
    "INSERT INTO network_buses (bus_id) VALUES (1)",
    "INSERT INTO feeders (feeder_id, bus_id) VALUES ('f-1', 1), ('f-2', 1)",
    "INSERT INTO poles (pole_id, feeder_id, gateway_id, network_profile) VALUES"
    " ('p-1', 'f-1', 'gw-1', 'wired'), ('p-2', 'f-1', 'gw-2', 'wired'), ('p-3', 'f-2', 'gw-3', '5g')",
    "INSERT INTO meters (meter_id, pole_id, customer_class, nominal_voltage_v) VALUES"
    " ('m-a', 'p-1', 'residential', 240), ('m-b', 'p-1', 'residential', 240),"
    " ('m-c', 'p-2', 'commercial', 120), ('m-d', 'p-3', 'residential', 240)",
)


def install_assets(db: Database) -> None:
    with db.transaction() as conn:
        for statement in ASSETS:
            conn.execute(statement)


def insert_readings(db: Database, rows: list[tuple[datetime, str, int, float, float]]) -> None:
    """(event_ts, meter_id, seq, voltage_v, power_kw) rows, pole from the asset model."""
    with db.transaction() as conn:
        conn.execute("SELECT lascopf_ensure_partitions('ami_readings', %s, %s)",
                     (min(r[0] for r in rows), max(r[0] for r in rows)))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO ami_readings (event_ts, meter_id, pole_id, seq, voltage_v, current_a, power_kw,"
                " network_profile, received_ts, ingest_batch)"
                " SELECT %s, %s, pole_id, %s, %s, 0, %s, 'wired', now(), 0 FROM meters WHERE meter_id = %s",
                [(ts, meter, seq, v, kw, meter) for ts, meter, seq, v, kw in rows])
