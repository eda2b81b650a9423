"""Accumulate accepted records and hand them over as one typed Arrow table.

Records stay dicts until the flush, where Arrow converts them in C++ (`from_pylist`) and the table
is deduplicated on the typed natural key (so `…00Z` and `…00.000Z` are the same instant).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data_engineering.contracts.spec import Source, stored_arrow_schema


class RecordBuffer:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.schema = stored_arrow_schema(source)
        # Timestamps arrive as RFC 3339 text: read as strings, cast once per batch.
        self._read_schema = pa.schema([pa.field(f.name, pa.string() if pa.types.is_timestamp(f.type) else f.type)
                                       for f in self.schema if f.name in source.record.names])
        self._records: list[dict[str, Any]] = []
        self._received_ms: list[int] = []

    def __len__(self) -> int:
        return len(self._records)

    def extend(self, records: list[dict[str, Any]], received_ms: int) -> None:
        self._records.extend(records)
        self._received_ms.extend([received_ms] * len(records))

    def take(self) -> tuple[list[dict[str, Any]], list[int]]:
        """Hand the buffered records over (to a writer thread) and start afresh."""
        taken = self._records, self._received_ms
        self._records, self._received_ms = [], []
        return taken

    def to_arrow(self, records: list[dict[str, Any]], received_ms: list[int], ingest_batch: int) -> pa.Table:
        """The records as a table in the stored schema, first occurrence of each key kept."""
        raw = pa.Table.from_pylist(records, schema=self._read_schema)
        arrays = []
        for field in self.schema:
            if field.name == "received_ts":
                arrays.append(pa.array(received_ms, pa.int64()).cast(pa.timestamp("ms", tz="UTC")).cast(field.type))
            elif field.name == "ingest_batch":
                arrays.append(pa.array(np.full(len(records), ingest_batch, dtype=np.int64)))
            elif pa.types.is_timestamp(field.type):
                as_ns = raw[field.name].cast(pa.timestamp("ns", tz="UTC"))
                arrays.append(as_ns.cast(field.type, safe=False))  # sub-microsecond digits are dropped
            else:
                arrays.append(raw[field.name])
        return drop_duplicate_keys(pa.Table.from_arrays(arrays, schema=self.schema), self.source.key)


def drop_duplicate_keys(table: pa.Table, key: tuple[str, ...]) -> pa.Table:
    if table.num_rows < 2:
        return table
    indexed = table.select(list(key)).append_column("__row", pa.array(np.arange(table.num_rows)))
    first = indexed.group_by(list(key), use_threads=False).aggregate([("__row", "min")])["__row_min"]
    if len(first) == table.num_rows:
        return table
    return table.take(pc.take(first, pc.sort_indices(first)))
