"""Lake keys of a pipeline run's intermediate objects, and DataFrame ↔ Parquet helpers."""

from __future__ import annotations

import io
import re
import uuid

import pandas as pd

from data_engineering.storage.lake import Lake

NAMESPACE = uuid.UUID("6f1c1f0e-3c55-4a8e-9d51-9f1c2a4b7e10")


def execution_id(run_key: str) -> uuid.UUID:
    """The same DAG run always gets the same execution id: reruns replace, never duplicate."""
    return uuid.uuid5(NAMESPACE, run_key)


def run_prefix(pipeline: str, run_key: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.=-]+", "_", run_key)
    return f"runs/{pipeline}/{slug}/"


def put_frame(lake: Lake, key: str, frame: pd.DataFrame) -> str:
    out = io.BytesIO()
    frame.to_parquet(out, index=isinstance(frame.index, pd.DatetimeIndex))
    lake.put(key, out.getvalue())
    return key


def get_frame(lake: Lake, key: str) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(lake.get(key)))
