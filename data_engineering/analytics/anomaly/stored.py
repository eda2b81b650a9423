"""The frames `features` takes, read from the database: transformer phase records, AMI readings,
the topology (with each transformer's rating from the twin) and the fault labels of a window."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from psycopg import sql

from data_engineering.analytics.anomaly.simulated import PHASE_COLUMNS
from data_engineering.storage.database import Database

_PHASES = sql.SQL("SELECT ts, point_id, {} FROM phase_measurements"
                  " WHERE point_kind = 'transformer' AND ts >= %s AND ts < %s").format(
    sql.SQL(", ").join(map(sql.Identifier, PHASE_COLUMNS)))
_AMI = "SELECT event_ts AS ts, meter_id, voltage_v, power_kw FROM ami_readings WHERE event_ts >= %s AND event_ts < %s"
_TOPOLOGY = ("SELECT t.meter_id, p.transformer_id, p.transformer_kva AS rated_kva, t.feeder_id, t.gateway_id"
             " FROM meter_topology t JOIN meter_phases p USING (meter_id) ORDER BY t.meter_id")
_FAULTS = ("SELECT fault_id, kind, target_kind, target_id, start_ts, end_ts, severity FROM fault_labels"
           " WHERE start_ts < %s AND end_ts > %s")


def _frame(db: Database, query: str | sql.Composable, params: tuple = ()) -> pd.DataFrame:
    with db.connect(autocommit=True) as conn:
        cur = conn.execute(query, params)
        return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])


def frames(db: Database, start: datetime, end: datetime) -> tuple[pd.DataFrame, ...]:
    """(phases, ami, topology, faults overlapping the window)."""
    phases, ami = _frame(db, _PHASES, (start, end)), _frame(db, _AMI, (start, end))
    faults = _frame(db, _FAULTS, (end, start))
    for frame, column in ((phases, "ts"), (ami, "ts"), (faults, "start_ts"), (faults, "end_ts")):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return phases, ami, _frame(db, _TOPOLOGY), faults
