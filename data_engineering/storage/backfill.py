"""Back-fill telemetry tables through the same writer the ingest worker uses (idempotent on the
natural key, recorded in the lake manifest so the archiver picks the rows up like any batch)."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from data_engineering.contracts.spec import Source, stored_arrow_schema
from data_engineering.storage.database import Database
from data_engineering.storage.telemetry import TelemetryWriter


def backfill(db: Database, source: Source, tables: Iterable[pa.Table]) -> int:
    """Write each table as one batch; returns the rows inserted (duplicates are absorbed)."""
    inserted = 0
    schema = stored_arrow_schema(source)
    with db.connect(autocommit=True) as conn:
        writer = TelemetryWriter(conn)
        for table in tables:
            batch_id = writer.next_batch_id()
            table = table.append_column("ingest_batch", pa.array([batch_id] * table.num_rows, pa.int64()))
            columns = [name for name in schema.names if name in table.column_names]
            table = table.select(columns).cast(pa.schema([schema.field(c) for c in columns]))
            writes, _, _ = writer.write(batch_id, {source: table}, [])
            inserted += sum(w.inserted for w in writes)
    return inserted
