"""lascopf_daily_ingest: historical exports dropped in the lake's landing prefix
(`<prefix><source>/<name>.csv|.parquet`, e.g. `landing/scada/ems-2026-11.parquet`) are checked
record by record against their contract (bad rows dead-lettered with the reason, as the stream
does), the good rows pass a Great Expectations gate as a batch, and then load through the same
writer as the stream (idempotent on the natural key, archived to the lake). A file is taken once
(by key; its content hash is recorded) and moved to `archive/`; a file that fails the gate is moved to
`rejected/` with nothing loaded."""

from __future__ import annotations

import hashlib
import io
import logging
import time
import uuid
from dataclasses import dataclass

import numpy as np
import orjson
import pandas as pd

from data_engineering.contracts.spec import Source
from data_engineering.ingestion.buffer import RecordBuffer
from data_engineering.ingestion.decode import Coordinates, MessageDecoder
from data_engineering.pipelines.artifacts import NAMESPACE
from data_engineering.pipelines.quality_gate import gate, quality_limits
from data_engineering.runtime import Platform
from data_engineering.storage.archive import write_objects
from data_engineering.storage.telemetry import TelemetryWriter
from data_engineering.validation.gate import QualityGateFailed
from data_engineering.validation.suites import (
    SuiteSpec,
    ami_suite,
    contract_suite,
    phase_suite,
    prepare_ami,
    prepare_phases,
    prepare_scada,
    scada_suite,
)

log = logging.getLogger(__name__)
PIPELINE = "lascopf_daily_ingest"
SUFFIXES = (".csv", ".parquet")


@dataclass(frozen=True)
class LandingOutcome:
    key: str
    source: str
    status: str  # loaded | rejected
    rows_loaded: int
    rows_dead_lettered: int
    duplicates: int
    reason: str = ""


def pending_files(platform: Platform) -> list[str]:
    """Landing objects not yet taken. A key is taken once: a corrected export goes in under a new name."""
    prefix = platform.settings.landing_prefix
    keys = [k for k in platform.lake.list(prefix) if k.endswith(SUFFIXES)]
    with platform.db.connect(autocommit=True) as conn:
        done = {r[0] for r in conn.execute("SELECT object_key FROM landing_files WHERE object_key = ANY(%s)", (keys,))}
    return [k for k in keys if k not in done]


def _read(key: str, data: bytes, source: Source) -> pd.DataFrame:
    """Parquet carries its types; CSV text columns are read as text (an id `7` stays `"7"`)."""
    if key.endswith(".parquet"):
        return pd.read_parquet(io.BytesIO(data))
    text = {f.name: str for f in source.record.fields if f.kind in ("string", "enum")}
    return pd.read_csv(io.BytesIO(data), dtype=text, keep_default_na=True)


def _records(frame: pd.DataFrame, source: Source) -> list[dict]:
    """Rows as the JSON records the contract describes: RFC 3339 times, no nulls."""
    out = frame.copy()
    for f in source.record.fields:
        if f.kind == "timestamp" and f.name in out:
            ts = pd.to_datetime(out[f.name], utc=True, errors="coerce")
            out[f.name] = ts.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").where(ts.notna(), None)
    records = out.replace({np.nan: None}).to_dict("records")
    return [{k: v for k, v in r.items() if v is not None} for r in records]


def load_file(platform: Platform, key: str) -> LandingOutcome:
    """Load one landing file, or reject it with the reason: a file under no source's folder, one
    that cannot be read, and one that fails the gate are recorded and moved to `rejected/`, so the
    other files' outcomes still reach the run's summary and the next run does not meet it again."""
    s, lake = platform.settings, platform.lake
    source_name = key[len(s.landing_prefix):].rpartition("/")[0].split("/", 1)[0]
    data = lake.get(key)
    digest = hashlib.sha256(data).hexdigest()
    source = platform.sources.get(source_name)
    if source is None:
        return _finish(platform, key, data, digest, source_name, "rejected", 0, 0, 0, None,
                       f"not under {s.landing_prefix}<source>/ for a source of {sorted(platform.sources)}")
    try:
        frame = _read(key, data, source)
        envelope = orjson.dumps({source.batch_field: _records(frame, source)}, option=orjson.OPT_SERIALIZE_NUMPY)
    except (ValueError, TypeError) as exc:  # pandas, pyarrow and orjson errors among them
        return _finish(platform, key, data, digest, source.name, "rejected", 0, 0, 0, None,
                       f"unreadable as {source.name} {key.rsplit('.', 1)[-1]}: {type(exc).__name__}: {exc}")
    good, _, dead, _ = MessageDecoder(source).decode(envelope, Coordinates(key, 0, 0))
    log.info("%s: %d rows, %d pass the %s contract, %d dead-lettered", key, len(frame), len(good), source.name,
             len(dead))
    quality_run_id = uuid.uuid5(NAMESPACE, f"{key}@{digest}")
    with platform.db.connect(autocommit=True) as conn:
        writer = TelemetryWriter(conn)
        batch_id = writer.next_batch_id()  # a rejected file leaves a gap in the sequence, nothing else
        buffer = RecordBuffer(source)
        buffer.extend(good, int(time.time() * 1000))
        rows = buffer.to_arrow(buffer.take(), batch_id) if good else None
        if rows is not None:
            batch = _prepare(platform, source, rows.to_pandas())
            try:
                gate(platform, key, [(_suite(platform, source), batch)], (None, None), quality_run_id, PIPELINE)
            except QualityGateFailed as exc:
                return _finish(platform, key, data, digest, source.name, "rejected", 0, len(dead), 0,
                               quality_run_id, str(exc))
        writes, objects, dead = writer.write(batch_id, {} if rows is None else {source: rows}, dead)
        write_objects(lake, objects)
        writer.mark_written([o.key for o in objects])
    inserted = sum(w.inserted for w in writes)
    duplicates = sum(w.duplicates for w in writes)
    return _finish(platform, key, data, digest, source.name, "loaded", inserted, len(dead), duplicates,
                   quality_run_id if good else None)


def _suite(platform: Platform, source: Source) -> SuiteSpec:
    """The stream's own suite for AMI, SCADA and the phase points; the contract's checks for the
    other sources."""
    limits = quality_limits(platform)
    if source.name == "ami":
        return ami_suite(source.record, limits)
    if source.name == "scada":
        return scada_suite(source.record, limits)
    if source.name == "phases":
        return phase_suite(source.record, limits)
    return contract_suite(source.table, source.record)


def _prepare(platform: Platform, source: Source, batch: pd.DataFrame) -> pd.DataFrame:
    """AMI batches get their meters' bus and nominal voltage from the asset model (as in the window
    the dispatch validates) and the derived columns of the AMI suite; SCADA and phase batches those
    of theirs."""
    if source.name == "scada":
        return prepare_scada(batch, quality_limits(platform))
    if source.name == "phases":
        return prepare_phases(batch, quality_limits(platform))
    if source.name != "ami":
        return batch
    with platform.db.connect(autocommit=True) as conn:
        topology = pd.DataFrame(conn.execute(
            "SELECT meter_id, bus_id, nominal_voltage_v FROM meter_topology WHERE meter_id = ANY(%s)",
            (batch["meter_id"].unique().tolist(),)).fetchall(), columns=["meter_id", "bus_id", "nominal_voltage_v"])
    return prepare_ami(batch.merge(topology, on="meter_id", how="left"), quality_limits(platform))


def _finish(platform: Platform, key: str, data: bytes, digest: str, source: str, status: str, loaded: int,
            dead: int, duplicates: int, quality_run_id: uuid.UUID | None, reason: str = "") -> LandingOutcome:
    """Record the file as taken (with the reason when rejected) and move it out of the landing
    prefix (copy, then delete)."""
    lake = platform.lake
    target = ("archive/" if status == "loaded" else "rejected/") + key
    lake.put(target, data)
    with platform.db.transaction() as conn:
        conn.execute("INSERT INTO landing_files (object_key, content_sha256, source, status, rows_loaded,"
                     " rows_dead_lettered, quality_run_id, archived_key, reason)"
                     " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (object_key) DO NOTHING",
                     (key, digest, source, status, loaded, dead, quality_run_id, target, reason or None))
    lake.delete(key)
    outcome = LandingOutcome(key, source, status, loaded, dead, duplicates, reason)
    (log.warning if status == "rejected" else log.info)("%s → %s: %s", key, target, outcome)
    return outcome
