"""A worker that dies between the database commit and the lake write leaves a pending manifest
row; the next worker rebuilds the object from the database."""

import io

import pyarrow.parquet as pq

from data_engineering.contracts.telemetry import telemetry_sources
from data_engineering.ingestion.buffer import RecordBuffer
from data_engineering.storage.archive import object_key, reconcile_pending
from data_engineering.storage.telemetry import TelemetryWriter
from tests.helpers import START, stored


def _readings(n):
    return [{"event_ts": f"2026-11-21T12:59:{55 + i:02d}Z" if i < 5 else f"2026-11-21T13:00:{i:02d}Z",
             "meter_id": "m-1", "pole_id": "p-1", "seq": i, "voltage_v": 240.0 + i, "current_a": 1.0,
             "power_kw": 0.5, "network_profile": "lte_m", "quality_flags": ["estimated"] if i == 2 else None}
            for i in range(n)]


def test_pending_objects_are_rebuilt_from_the_database(database, lake):
    source = telemetry_sources()["ami"]
    buffer = RecordBuffer(source)
    buffer.extend(_readings(8), received_ms=1_763_726_400_000)
    with database.connect(autocommit=True) as conn:
        writer = TelemetryWriter(conn)
        batch = writer.next_batch_id()
        writes, objects, _ = writer.write(batch, {source: buffer.to_arrow(buffer.take(), batch)}, [])
        # ... and the worker dies here: no lake write, no offsets.
        assert [o.key for o in objects] == [object_key("ami", START.replace(hour=12), batch),
                                            object_key("ami", START.replace(hour=13), batch)]
        assert list(lake.list()) == []
        rebuilt = reconcile_pending(conn, lake, telemetry_sources())
    assert rebuilt == [o.key for o in objects]
    for plan in objects:
        table = pq.read_table(io.BytesIO(lake.get(plan.key)))
        assert table.to_pylist() == plan.rows.to_pylist()
    assert stored(database, "SELECT DISTINCT status FROM lake_objects").status.tolist() == ["written"]


def test_rows_already_stored_are_not_archived_twice(database, lake):
    source = telemetry_sources()["ami"]
    with database.connect(autocommit=True) as conn:
        writer = TelemetryWriter(conn)
        for n in (3, 6):  # the second batch repeats the first three readings
            buffer = RecordBuffer(source)
            buffer.extend(_readings(n), received_ms=1_763_726_400_000)
            batch = writer.next_batch_id()
            writes, objects, _ = writer.write(batch, {source: buffer.to_arrow(buffer.take(), batch)}, [])
        assert writes[0].staged == 6 and writes[0].inserted == 3
        assert sum(o.rows.num_rows for o in objects) == 3
        assert sorted(r["seq"] for o in objects for r in o.rows.to_pylist()) == [3, 4, 5]
