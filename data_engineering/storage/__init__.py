"""Storage: PostgreSQL/TimescaleDB (schema, telemetry writes, asset model) and the data lake."""
