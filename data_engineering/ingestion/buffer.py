"""Accumulate accepted records and hand them over as one typed Arrow table.

Records stay dicts until the flush, where Arrow converts them in C++ (`from_pylist`). Each record
keeps where it came from (its message's coordinates, its position in the message and the message's
bytes, shared, not copied), so a record the store refuses can still be dead-lettered on its own.
Repeats of a natural key are not dropped here: the writer tells re-sends from conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from data_engineering.contracts.dead_letter import DeadLetter
from data_engineering.contracts.spec import Source, stored_arrow_schema
from data_engineering.ingestion.decode import Coordinates


@dataclass(frozen=True)
class Origin:
    """The message a record came in."""

    at: Coordinates
    value: bytes
    envelope: bytes | None


@dataclass(frozen=True)
class Taken:
    """Buffered records handed to the writer: the records, their Kafka timestamps and origins.
    Flat lists, one entry per record, that share their messages' objects: no container is made
    per record for the garbage collector to traverse."""

    records: list[dict[str, Any]]
    received_ms: list[int]
    origins: list[Origin]  # the message each record came in
    items: list[int]  # its position in that message; -1 for a single record

    def __len__(self) -> int:
        return len(self.records)

    def subset(self, rows: list[int]) -> Taken:
        return Taken(*([column[i] for i in rows] for column in (self.records, self.received_ms, self.origins,
                                                                  self.items)))

    def dead_letter(self, source: Source, row: int, reason: str, detail: str,
                    natural_key: dict | None = None) -> DeadLetter:
        """Record `row` as a dead letter: its own original bytes (the batch item, or the message)."""
        origin, item = self.origins[row], self.items[row]
        payload = origin.value if item < 0 else orjson.dumps(orjson.loads(origin.value)[source.batch_field][item])
        return DeadLetter(source.name, origin.at.topic, origin.at.partition, origin.at.offset, item, reason,
                          detail, payload, origin.at.key, origin.envelope, natural_key)


class RecordBuffer:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.schema = stored_arrow_schema(source)
        # Timestamps arrive as RFC 3339 text: read as strings, cast once per batch.
        self._read_schema = pa.schema([pa.field(f.name, pa.string() if pa.types.is_timestamp(f.type) else f.type)
                                       for f in self.schema if f.name in source.record.names])
        self._taken = Taken([], [], [], [])

    def __len__(self) -> int:
        return len(self._taken)

    def extend(self, records: list[dict[str, Any]], received_ms: int, origin: Origin | None = None,
               items: list[int] | None = None) -> None:
        t = self._taken
        t.records.extend(records)
        t.received_ms.extend([received_ms] * len(records))
        t.origins.extend([origin] * len(records))
        t.items.extend(items or [-1] * len(records))

    def take(self) -> Taken:
        """Hand the buffered records over (to a writer thread) and start afresh."""
        taken, self._taken = self._taken, Taken([], [], [], [])
        return taken

    def to_arrow(self, taken: Taken, ingest_batch: int) -> pa.Table:
        """The records as a table in the stored schema."""
        raw = pa.Table.from_pylist(taken.records, schema=self._read_schema)
        arrays = []
        for field in self.schema:
            if field.name == "received_ts":
                arrays.append(pa.array(taken.received_ms, pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
                              .cast(field.type))
            elif field.name == "ingest_batch":
                arrays.append(pa.array(np.full(len(taken), ingest_batch, dtype=np.int64)))
            elif pa.types.is_timestamp(field.type):
                as_ns = raw[field.name].cast(pa.timestamp("ns", tz="UTC"))
                arrays.append(as_ns.cast(field.type, safe=False))  # sub-microsecond digits are dropped
            else:
                arrays.append(raw[field.name])
        return pa.Table.from_arrays(arrays, schema=self.schema)
