"""A historian export for the simulated grid: bus loads and unit outputs every few minutes over the
days before a simulation starts, as the EMS would hand them over for back-filling (a Parquet file
in the SCADA contract, dropped into the lake's landing prefix for the daily batch DAG)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from data_engineering.contracts.telemetry import SCADA_MEASUREMENT
from data_engineering.simulation.engine import Simulator, _ts, load_and_unit_records

# Averaging 1 Hz meter noise (5 %) over a 5-minute interval leaves about this much.
INTERVAL_NOISE = 0.05 / np.sqrt(300)


def scada_history(sim: Simulator, days: float, interval_minutes: float = 5.0) -> list[dict]:
    """Records for every interval in [start − days, start), the simulator's own clock and fleet."""
    cfg, g = sim.config, sim.grid
    rng = np.random.default_rng([cfg.seed, 7])
    step = timedelta(minutes=interval_minutes)
    n = int(round(days * 24 * 60 / interval_minutes))
    records: list[dict] = []
    for k in range(n, 0, -1):
        at: datetime = cfg.start - k * step
        p_kw = sim.expected_kw(at, sim.temperature_c(at)) * (1 + rng.normal(0, INTERVAL_NOISE, size=sim.fleet.n_meters))
        load = sim.bus_load_mw(p_kw)
        records += load_and_unit_records(g, _ts(at), load, g.dispatch(np.array([load.sum()]))[0], None)
    return records


def to_parquet(records: list[dict]) -> bytes:
    frame = pd.DataFrame.from_records(records, columns=list(SCADA_MEASUREMENT.names))
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    table = pa.Table.from_pandas(frame, schema=SCADA_MEASUREMENT.arrow_schema(), preserve_index=False)
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd")
    return out.getvalue()
