"""LASCOPF cases in the lake, content-addressed: `cases/<name>/<hash>/` holds the MATPOWER `.m`
file and its look-ahead sidecar (what PowerSystems.jl and the Julia solver read), the time series as
Parquet (long format, for SQL engines and pandas) and as HDF5 (arrays, for numerical tools). The
load band (P10 / P90 trajectories, `Case.load_band_mw`) has no place in MATPOWER or the sidecar: it is
an HDF5 dataset, written when the case has one and read back when present (older cases have none)."""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from data_engineering.solver.case import Case
from data_engineering.solver.cases.matpower import read_case, write_case
from data_engineering.storage.lake import Lake

FILES = ("case.m", "case.json", "timeseries.parquet", "timeseries.h5")


@dataclass(frozen=True)
class StoredCase:
    prefix: str
    content_hash: str

    def key(self, file: str) -> str:
        return f"{self.prefix}{file}"


def case_prefix(case: Case, content_hash: str) -> str:
    return f"cases/{case.name}/{content_hash[:16]}/"


def timeseries_frame(case: Case, times: pd.DatetimeIndex) -> pd.DataFrame:
    """One row per (interval, bus): the load the case asks the dispatch to serve."""
    t, n = case.load_mw.shape
    return pd.DataFrame({"interval": np.repeat(np.arange(1, t + 1), n), "ts": np.repeat(times, n),
                         "bus_id": np.tile(case.buses.ids, t), "load_mw": case.load_mw.ravel()})


def hdf5_bytes(case: Case, times: pd.DatetimeIndex, history: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    with h5py.File(out, "w") as h5:
        h5.attrs["case"] = case.name
        h5.attrs["interval_minutes"] = case.interval_minutes
        h5["time"] = np.array([t.isoformat() for t in times], dtype="S")
        h5["bus_ids"] = case.buses.ids
        h5["load_mw"] = case.load_mw
        h5["load_mw"].attrs["dims"] = "interval, bus"
        if case.load_band_mw is not None:
            h5["load_band_mw"] = case.load_band_mw
            h5["load_band_mw"].attrs["dims"] = "trajectory, interval, bus"
        h5["generators/names"] = np.array(case.generators.names, dtype="S")
        h5["generators/p0_mw"] = case.generators.p0_mw
        h5["history/time"] = np.array([t.isoformat() for t in history.index], dtype="S")
        h5["history/load_mw"] = history.to_numpy(dtype=float)
    return out.getvalue()


def write_case_objects(lake: Lake, case: Case, content_hash: str, times: pd.DatetimeIndex,
                       history: pd.DataFrame) -> StoredCase:
    """Write the four objects (the same bytes for the same case: safe to repeat)."""
    stored = StoredCase(case_prefix(case, content_hash), content_hash)
    with tempfile.TemporaryDirectory() as tmp:
        m_path, sidecar_path = write_case(case, Path(tmp) / "case")
        lake.put(stored.key("case.m"), m_path.read_bytes(), "text/plain")
        lake.put(stored.key("case.json"), sidecar_path.read_bytes(), "application/json")
    parquet = io.BytesIO()
    timeseries_frame(case, times).to_parquet(parquet, index=False)
    lake.put(stored.key("timeseries.parquet"), parquet.getvalue())
    lake.put(stored.key("timeseries.h5"), hdf5_bytes(case, times, history), "application/x-hdf5")
    return stored


def read_system_load(lake: Lake, prefix: str) -> tuple[pd.Series, pd.Series]:
    """System load (MW, summed over buses) from a stored case's HDF5: the history the forecast was
    fitted on, and the case's own intervals (the forecast)."""
    def index(dataset: h5py.Dataset) -> pd.DatetimeIndex:
        return pd.to_datetime([t.decode() for t in dataset[:]])

    with h5py.File(io.BytesIO(lake.get(f"{prefix}timeseries.h5")), "r") as h5:
        history = pd.Series(h5["history/load_mw"][:].sum(axis=1), index=index(h5["history/time"]))
        forecast = pd.Series(h5["load_mw"][:].sum(axis=1), index=index(h5["time"]))
    return history, forecast


def read_case_objects(lake: Lake, prefix: str) -> Case:
    """The case as the solver reads it from the `.m` file and sidecar, with its load band when the
    HDF5 holds one."""
    with tempfile.TemporaryDirectory() as tmp:
        for file in ("case.m", "case.json"):
            (Path(tmp) / file).write_bytes(lake.get(f"{prefix}{file}"))
        case = read_case(Path(tmp) / "case.m")
    if not lake.exists(f"{prefix}timeseries.h5"):
        return case
    with h5py.File(io.BytesIO(lake.get(f"{prefix}timeseries.h5")), "r") as h5:
        band = h5["load_band_mw"][:] if "load_band_mw" in h5 else None
    return case if band is None else replace(case, load_band_mw=band)
