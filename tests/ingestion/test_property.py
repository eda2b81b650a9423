"""Random JSON documents and random bytes at a live worker: whatever arrives is stored or
dead-lettered, message by message, and the worker stays up."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_engineering.contracts.telemetry import NETWORK_PROFILES, telemetry_sources
from data_engineering.ingestion.topics import ensure_topics
from tests.helpers import lake_table, run_worker, send_raw, stored

WILD = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=70),
                 st.lists(st.text(max_size=4), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                            max_size=2))


def mostly(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Valid seven times in eight (one_of would weigh the two alike): enough whole readings get through."""
    return st.integers(0, 7).flatmap(lambda k: WILD if k == 0 else valid)


READING = st.fixed_dictionaries(
    {"event_ts": mostly(st.datetimes(datetime(2026, 11, 20), datetime(2026, 11, 22), timezones=st.just(UTC))
                        .map(lambda t: t.isoformat())),
     "meter_id": mostly(st.text(min_size=1, max_size=50)), "pole_id": mostly(st.text(min_size=1, max_size=40)),
     "seq": mostly(st.integers(0, 2**63 - 1)), "voltage_v": mostly(st.floats(0, 480)),
     "current_a": mostly(st.floats(0, 1000)), "power_kw": mostly(st.floats(-200, 1000))},
    optional={"network_profile": mostly(st.sampled_from(NETWORK_PROFILES)), "freq_hz": mostly(st.floats(40, 70)),
              "quality_flags": mostly(st.lists(st.sampled_from(["estimated", "voltage_sag"]), unique=True)),
              "gateway_id": mostly(st.text(min_size=1, max_size=20)), "extra": WILD})
MESSAGE = st.integers(0, 3).flatmap(
    lambda k: READING if k < 2 else st.binary(max_size=200) if k == 2 else st.recursive(WILD, lambda c: st.lists(c)))


def encode(i: int, run: str, doc: object) -> bytes:
    """A message with a key of its own: a reading's meter id carries its message number."""
    if isinstance(doc, bytes):
        return doc
    if isinstance(doc, dict) and isinstance(doc.get("meter_id"), str):
        doc = doc | {"meter_id": f"{run}.{i}-{doc['meter_id']}"}
    return json.dumps(doc).encode()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow, HealthCheck.data_too_large])
@given(documents=st.lists(MESSAGE, min_size=1, max_size=60))
def test_every_message_is_stored_or_dead_lettered_and_the_worker_lives(database, kafka_bootstrap, lake, documents):
    run = uuid.uuid4().hex[:8]
    prefix = f"p{run}."
    sources = telemetry_sources(prefix)
    ensure_topics(kafka_bootstrap, [s.topic for s in sources.values()], partitions=1, dead_letter_suffix=".dlq")
    send_raw(kafka_bootstrap, sources["ami"].topic, [encode(i, run, d) for i, d in enumerate(documents)])

    stats, _ = run_worker(kafka_bootstrap, prefix, database, lake)  # raises if the worker dies

    rows = stored(database, "SELECT meter_id, seq FROM ami_readings WHERE meter_id LIKE %s", (f"{run}.%",))
    stored_messages = {int(m.split("-", 1)[0].split(".", 1)[1]) for m in rows.meter_id}
    dead = stored(database, "SELECT kafka_offset FROM dead_letters WHERE topic = %s", (sources["ami"].topic,))
    dead_messages = set(dead.kafka_offset)
    assert len(rows) == len(stored_messages)  # one reading per message: one row each
    assert stored_messages | dead_messages == set(range(len(documents)))  # nothing lost …
    assert not stored_messages & dead_messages  # … and nothing both stored and dead-lettered
    assert len(dead) == len(dead_messages) == stats.rejected
    archived = lake_table(lake, "ami")
    lake_keys = set() if archived.num_rows == 0 else set(
        zip(*(archived.column(c).to_pylist() for c in ("meter_id", "seq")), strict=True))
    assert {k for k in lake_keys if k[0].startswith(f"{run}.")} == set(zip(rows.meter_id, rows.seq, strict=True))
