"""Accumulate accepted records column by column and hand them over as one typed Arrow table.

Columns, not row dicts: appending is a handful of list appends per record, and the Arrow table is
built in C++ at flush time, deduplicated on the typed natural key (so `…00Z` and `…00.000Z` are
the same instant).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data_engineering.contracts.spec import Source, stored_arrow_schema


class ColumnBuffer:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.schema = stored_arrow_schema(source)
        self._names = source.record.names
        self._columns: dict[str, list[Any]] = {}
        self._received_ms: list[int] = []
        self.clear()

    def clear(self) -> None:
        self._columns = {name: [] for name in self._names}
        self._received_ms = []

    def __len__(self) -> int:
        return len(self._received_ms)

    def extend(self, records: list[dict[str, Any]], received_ms: int) -> None:
        for name, column in self._columns.items():
            column.extend([r.get(name) for r in records])
        self._received_ms.extend([received_ms] * len(records))

    def to_arrow(self, ingest_batch: int) -> pa.Table:
        """The buffered rows as a table in the stored schema, first occurrence of each key kept."""
        n = len(self)
        arrays = []
        for field in self.schema:
            if field.name == "received_ts":
                values = pa.array(self._received_ms, pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
                arrays.append(values.cast(field.type))
            elif field.name == "ingest_batch":
                arrays.append(pa.array(np.full(n, ingest_batch, dtype=np.int64)))
            elif pa.types.is_timestamp(field.type):
                as_ns = pa.array(self._columns[field.name], pa.string()).cast(pa.timestamp("ns", tz="UTC"))
                arrays.append(as_ns.cast(field.type, safe=False))  # sub-microsecond digits are dropped
            else:
                arrays.append(pa.array(self._columns[field.name], field.type))
        return drop_duplicate_keys(pa.Table.from_arrays(arrays, schema=self.schema), self.source.key)


def drop_duplicate_keys(table: pa.Table, key: tuple[str, ...]) -> pa.Table:
    if table.num_rows < 2:
        return table
    indexed = table.select(list(key)).append_column("__row", pa.array(np.arange(table.num_rows)))
    first = indexed.group_by(list(key), use_threads=False).aggregate([("__row", "min")])["__row_min"]
    if len(first) == table.num_rows:
        return table
    return table.take(pc.take(first, pc.sort_indices(first)))
