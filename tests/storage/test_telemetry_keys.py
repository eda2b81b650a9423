"""The telemetry writer's natural keys, batch by batch: new rows, re-sends and conflicts told apart
inside one batch and across batches, and rows stored before the key table existed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from data_engineering.contracts.telemetry import telemetry_sources
from data_engineering.ingestion.buffer import RecordBuffer
from data_engineering.storage.telemetry import TelemetryWriter

AMI = telemetry_sources()["ami"]
GOOD = {"event_ts": "2026-11-21T12:00:00Z", "meter_id": "m-1", "pole_id": "p-1", "seq": 0, "voltage_v": 239.5,
        "current_a": 4.2, "power_kw": 0.95, "network_profile": "wired"}


@pytest.fixture
def write(database):
    conn = database.connect(autocommit=True)
    writer = TelemetryWriter(conn)
    buffer = RecordBuffer(AMI)

    def write_batch(records: list[dict]):
        batch = writer.next_batch_id()
        buffer.extend(records, received_ms=1)
        return writer.write(batch, {AMI: buffer.to_arrow(buffer.take(), batch)}, [])

    yield write_batch
    conn.close()


def test_in_batch_repeats_and_conflicts(write):
    writes, objects, dead = write([GOOD, GOOD | {"event_ts": "2026-11-21T12:00:00.000Z"},  # the same instant
                                   GOOD | {"seq": 1}, GOOD | {"seq": 1, "voltage_v": 1.0},  # other content
                                   GOOD | {"seq": 2, "gateway_id": "gw"}, GOOD | {"seq": 2}])  # transport only
    w = writes[0]
    assert (w.inserted, w.duplicates, len(w.conflicts)) == (3, 2, 1)
    assert w.new_rows.column("seq").to_pylist() == [0, 1, 2] and w.new_rows.column("voltage_v")[1].as_py() == 239.5
    assert [(d.reason, d.natural_key) for d in dead] == [("conflicting_duplicate", {"meter_id": "m-1", "seq": 1})]
    assert sum(o.rows.num_rows for o in objects) == 3


def test_across_batches_another_event_time_is_a_conflict_and_an_exact_resend_is_absorbed(write):
    write([GOOD])
    writes, objects, dead = write([GOOD, GOOD | {"event_ts": "2026-11-21T12:00:09Z"}, GOOD | {"seq": 5}])
    w = writes[0]
    assert (w.inserted, w.duplicates, len(w.conflicts)) == (1, 1, 1)
    assert w.new_rows.column("seq").to_pylist() == [5] and [o.rows.num_rows for o in objects] == [1]
    assert "2026-11-21T12:00:00" in dead[0].detail


def test_rows_stored_before_the_key_table_are_still_one_per_key(write, database):
    with database.connect(autocommit=True) as conn:
        conn.execute("SELECT lascopf_ensure_partitions('ami_readings', %s, %s)",
                     (datetime(2026, 11, 21, tzinfo=UTC), datetime(2026, 11, 21, 23, tzinfo=UTC)))
        conn.execute("INSERT INTO ami_readings (event_ts, meter_id, pole_id, seq, voltage_v, current_a, power_kw,"
                     " network_profile, received_ts, ingest_batch) VALUES ('2026-11-21T12:00:00Z', 'm-1', 'p-1', 0,"
                     " 239.5, 4.2, 0.95, 'wired', now(), 0)")
    writes, objects, dead = write([GOOD, GOOD | {"seq": 1}])
    w = writes[0]
    assert (w.inserted, w.duplicates, len(w.conflicts)) == (1, 1, 0)
    assert w.new_rows.column("seq").to_pylist() == [1] and dead == []
