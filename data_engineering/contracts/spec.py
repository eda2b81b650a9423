"""Declarative record descriptions: each record type is described once (types, units, bounds) and
the JSON schema, the Arrow schema, the pydantic model and the SQL column types are derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, create_model
from pydantic import Field as PydField

# RFC 3339 with an explicit offset, at most nanosecond precision, years 1900-2199: what the stores hold.
TIMESTAMP_PATTERN = r"^(19|20|21)\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$"
# PostgreSQL's text cannot hold NUL; bigint (and Arrow's int64) hold exactly this range.
NO_NUL_PATTERN = "^[^\x00]*$"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

Kind = Literal["string", "integer", "number", "boolean", "timestamp", "enum", "string_list"]

_ARROW = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "enum": pa.string(),
    "string_list": pa.list_(pa.string()),
}
_SQL = {
    "string": "text",
    "integer": "bigint",
    "number": "double precision",
    "boolean": "boolean",
    "timestamp": "timestamp with time zone",
    "enum": "text",
    "string_list": "ARRAY",
}
_PY: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "timestamp": datetime,
    "enum": str,
    "string_list": list[str],
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: Kind
    description: str = ""
    unit: str | None = None
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    transport: bool = False  # set by the path a record travelled (gateway, backhaul), not by the measurement

    def json_schema(self) -> dict[str, Any]:
        if self.kind == "timestamp":
            schema: dict[str, Any] = {"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN}
        elif self.kind == "enum":
            schema = {"type": "string", "enum": list(self.choices)}
        elif self.kind == "string_list":
            items = {"type": "string", "enum": list(self.choices)} if self.choices else {"type": "string"}
            schema = {"type": "array", "items": items, "uniqueItems": True}
        else:
            schema = {"type": self.kind}
        if self.kind == "string":
            schema["minLength"] = 1
            schema["pattern"] = NO_NUL_PATTERN
            if self.max_length:
                schema["maxLength"] = self.max_length
        elif self.kind == "string_list" and not self.choices:
            schema["items"]["pattern"] = NO_NUL_PATTERN
        if self.kind == "integer":  # what the store can hold, whatever narrower bound the field sets
            schema["minimum"], schema["maximum"] = INT64_MIN, INT64_MAX
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.description or self.unit:
            schema["description"] = f"{self.description} [{self.unit}]" if self.unit else self.description
        if not self.required:  # keywords other than type/enum only constrain values of their own type
            schema["type"] = [schema["type"], "null"]
            if "enum" in schema:
                schema["enum"] = [*schema["enum"], None]
        return schema

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW[self.kind]

    @property
    def sql_type(self) -> str:
        """The type as `information_schema.columns.data_type` reports it."""
        return _SQL[self.kind]


@dataclass(frozen=True)
class RecordSpec:
    name: str
    fields: tuple[FieldSpec, ...]
    description: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)

    def json_schema(self) -> dict[str, Any]:
        return {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "title": self.name,
            "description": self.description,
            "type": "object",
            "properties": {f.name: f.json_schema() for f in self.fields},
            "required": [f.name for f in self.fields if f.required],
            "additionalProperties": True,
        }

    @property
    def content_names(self) -> tuple[str, ...]:
        """The fields that say what was measured: two records with the same natural key and equal
        content are the same record re-sent, whatever path they travelled."""
        return tuple(f.name for f in self.fields if not f.transport)

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(f.name, f.arrow_type, nullable=not f.required) for f in self.fields])

    def pydantic_model(self) -> type[BaseModel]:
        definitions: dict[str, Any] = {}
        for f in self.fields:
            py = _PY[f.kind]
            constraints = {"ge": f.minimum, "le": f.maximum, "description": f.description or None}
            if f.kind == "enum":
                py = Literal[f.choices]  # type: ignore[valid-type]
            if not f.required:
                definitions[f.name] = (py | None, PydField(default=None, **constraints))
            else:
                definitions[f.name] = (py, PydField(**constraints))
        return create_model(
            "".join(p.capitalize() for p in self.name.split("_")),
            __config__=ConfigDict(extra="allow"),
            **definitions,
        )


@dataclass(frozen=True, eq=False)  # hashed by identity: used as a dict key, holds a dict
class Source:
    """One telemetry stream: its topic, record contract and where its rows are stored.

    `key` is the natural key: one stored row per key, a re-send with equal content absorbed, one with
    other content dead-lettered. When it does not include the time column (a meter's `seq`), a key
    table beside the time-partitioned one (`key_table`) enforces it, since a unique index on a
    hypertable or a partitioned table must contain the partitioning column.
    `envelope_fields` maps batch-envelope fields onto record columns they fill when a record lacks them.
    """

    name: str
    topic: str
    record: RecordSpec
    table: str
    time_column: str
    key: tuple[str, ...]
    batch_field: str
    envelope_fields: dict[str, str] = field(default_factory=dict)
    key_table: str | None = None

    @property
    def stored_key(self) -> tuple[str, ...]:
        """The unique key of the time-partitioned table: the natural key plus the time column."""
        return self.key if self.time_column in self.key else (*self.key, self.time_column)

    @cached_property
    def envelope_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "required": [self.batch_field],
            "properties": {self.batch_field: {"type": "array", "minItems": 1}},
        }


# Columns the ingest worker adds to every stored row, after the record's own fields.
INGEST_COLUMNS: tuple[FieldSpec, ...] = (
    FieldSpec("received_ts", "timestamp", "when the broker received the message (Kafka timestamp)"),
    FieldSpec("ingest_batch", "integer", "id of the ingest batch that wrote the row (lake manifest)"),
)


def stored_columns(source: Source) -> tuple[FieldSpec, ...]:
    return source.record.fields + INGEST_COLUMNS


def stored_arrow_schema(source: Source) -> pa.Schema:
    return pa.schema([pa.field(f.name, f.arrow_type) for f in stored_columns(source)])
