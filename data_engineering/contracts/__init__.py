"""Data contracts: each record type described once, everything else derived from it."""

from data_engineering.contracts.spec import FieldSpec, RecordSpec, Source, stored_arrow_schema, stored_columns
from data_engineering.contracts.telemetry import telemetry_sources

__all__ = ["FieldSpec", "RecordSpec", "Source", "stored_arrow_schema", "stored_columns", "telemetry_sources"]
