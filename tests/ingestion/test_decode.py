import json
from datetime import datetime

import orjson
import pytest

from data_engineering.contracts.telemetry import telemetry_sources
from data_engineering.ingestion.buffer import RecordBuffer
from data_engineering.ingestion.decode import Coordinates, EventWindow, MessageDecoder

AT = Coordinates("ami.readings", 1, 42, b"p-1")
GOOD = {"event_ts": "2026-11-21T12:00:00.250Z", "meter_id": "m-1", "pole_id": "p-1", "seq": 7, "voltage_v": 240.0,
        "current_a": 4.0, "power_kw": 0.9, "network_profile": "wired"}


@pytest.fixture
def decoder():
    return MessageDecoder(telemetry_sources()["ami"])


def test_single_reading(decoder):
    good, items, bad, envelope = decoder.decode(orjson.dumps(GOOD), AT)
    assert good == [GOOD] and items == [-1] and bad == [] and envelope is None


def test_batch_keeps_good_records_and_dead_letters_each_bad_one(decoder):
    envelope = {"gateway_id": "gw-1", "pole_id": "p-1", "network_profile": "satellite",
                "sent_ts": "2026-11-21T12:00:05Z",
                "readings": [{k: v for k, v in GOOD.items() if k not in ("pole_id", "network_profile")},
                             GOOD | {"seq": 8, "current_a": -1}, "not a reading"]}
    good, items, bad, _ = decoder.decode(orjson.dumps(envelope), AT)
    assert len(good) == 1 and items == [0]
    assert good[0]["gateway_id"] == "gw-1" and good[0]["network_profile"] == "satellite"
    assert good[0]["gateway_ts"] == "2026-11-21T12:00:05Z"
    assert [(b.item, b.reason) for b in bad] == [(1, "out_of_range"), (2, "invalid_value")]
    assert "current_a" in bad[0].detail and bad[0].offset == 42 and bad[0].key == b"p-1"
    # each bad item keeps the envelope it came in: gateway, backhaul, sent time
    assert orjson.loads(bad[0].envelope) == {"gateway_id": "gw-1", "pole_id": "p-1", "network_profile": "satellite",
                                             "sent_ts": "2026-11-21T12:00:05Z"}
    assert orjson.loads(bad[0].payload)["seq"] == 8


@pytest.mark.parametrize(("payload", "reason"), [
    (b"", "empty_message"), (b"\xff\xfe", "invalid_json"), (b"3", "not_an_object"),
    (b'{"readings": []}', "invalid_envelope"), (b'{"readings": "x"}', "invalid_envelope"),
    (orjson.dumps({k: v for k, v in GOOD.items() if k != "seq"}), "missing_field"),
    (orjson.dumps(GOOD | {"freq_hz": 99.0}), "out_of_range"),
    (orjson.dumps(GOOD | {"event_ts": "yesterday"}), "invalid_value"),
])
def test_whole_message_rejects_keep_the_original_bytes(decoder, payload, reason):
    good, _, bad, _ = decoder.decode(payload, AT)
    assert good == [] and [(b.reason, b.item, b.payload) for b in bad] == [(reason, -1, payload)]


def test_buffer_types_columns_and_keeps_each_record_with_its_origin():
    source = telemetry_sources()["ami"]
    buffer = RecordBuffer(source)
    buffer.extend([GOOD, GOOD | {"event_ts": "2026-11-21T12:00:00.250000Z"}, GOOD | {"seq": 8}], received_ms=5)
    taken = buffer.take()
    table = buffer.to_arrow(taken, ingest_batch=9)
    assert table.num_rows == 3 and len(buffer) == 0  # repeats are the writer's to classify
    assert table.column("event_ts")[0] == table.column("event_ts")[1]  # the same instant written two ways
    assert table.column("seq").to_pylist() == [7, 7, 8]
    assert table.column("ingest_batch").to_pylist() == [9, 9, 9]
    assert table.schema.field("event_ts").type.tz == "UTC"
    assert buffer.to_arrow(taken.subset([2]), ingest_batch=9).column("seq").to_pylist() == [8]


@pytest.mark.parametrize(("change", "reason"), [
    ({"seq": 2**63}, "out_of_range"), ({"seq": 2**63 - 1}, None), ({"seq": 2**64}, "out_of_range"),
    ({"meter_id": "m\x00-1"}, "invalid_value"), ({"pole_id": "\x00"}, "invalid_value"),
    ({"event_ts": "1899-12-31T23:59:59Z"}, "invalid_value"),
])
def test_the_contract_admits_only_what_the_store_holds(decoder, change, reason):
    good, _, bad, _ = decoder.decode(json.dumps(GOOD | change).encode(), AT)  # orjson cannot write 2**64
    assert [b.reason for b in bad] == ([] if reason is None else [reason])
    assert "\x00" not in "".join(b.detail for b in bad)  # the dead letter's text is storable too


def test_event_time_outside_the_window_around_arrival_is_dead_lettered():
    decoder = MessageDecoder(telemetry_sources()["ami"], EventWindow(late_s=30 * 86_400, ahead_s=300))
    arrival = int(datetime.fromisoformat(GOOD["event_ts"]).timestamp() * 1000)
    day = 86_400_000
    for received, expected in [(arrival, []), (arrival + 29 * day, []), (arrival + 31 * day, ["out_of_window"]),
                               (arrival - 299_000, []), (arrival - 301_000, ["out_of_window"]), (None, []),
                               (-1, [])]:
        _, _, bad, _ = decoder.decode(orjson.dumps(GOOD), AT, received)
        assert [b.reason for b in bad] == expected, received
    batch = {"pole_id": "p-1", "readings": [GOOD | {"event_ts": "2199-01-01T00:00:00Z"}, GOOD | {"seq": 8}]}
    good, items, bad, _ = decoder.decode(orjson.dumps(batch), AT, arrival)
    assert items == [1] and [(b.item, b.reason) for b in bad] == [(0, "out_of_window")]


def test_a_direct_meter_feed_needs_no_network_profile(decoder):
    direct = {k: v for k, v in GOOD.items() if k != "network_profile"}
    good, _, bad, _ = decoder.decode(orjson.dumps(direct), AT)
    assert good == [direct] and bad == []


def test_a_bad_envelope_field_rejects_the_whole_batch(decoder):
    envelope = {"gateway_id": "gw-1", "pole_id": "p-1", "network_profile": "carrier_pigeon",
                "readings": [{k: v for k, v in GOOD.items() if k not in ("pole_id", "network_profile")}]}
    good, _, bad, _ = decoder.decode(orjson.dumps(envelope), AT)
    assert good == [] and [(b.reason, b.item) for b in bad] == [("invalid_envelope", -1)]
    assert "network_profile" in bad[0].detail


def test_split_validation_accepts_exactly_what_the_full_schema_accepts(decoder):
    """Envelope fields checked once per message, the rest per record: same verdicts as checking
    each merged record against the whole schema."""
    import jsonschema_rs

    full = jsonschema_rs.Draft7Validator(telemetry_sources()["ami"].record.json_schema(), validate_formats=True)
    own = {k: v for k, v in GOOD.items() if k not in ("pole_id", "network_profile")}
    variants = [own, own | {"pole_id": ""}, own | {"network_profile": "lte_m"}, {**own, "seq": "7"},
                {k: v for k, v in own.items() if k != "event_ts"}, own | {"gateway_ts": "2026-02-30T00:00:00Z"}]
    envelope = {"gateway_id": "gw-1", "pole_id": "p-1", "network_profile": "wired", "readings": variants}
    good, _, bad, _ = decoder.decode(orjson.dumps(envelope), AT)
    defaults = {"gateway_id": "gw-1", "pole_id": "p-1", "network_profile": "wired"}
    assert good == [defaults | item for item in variants if full.is_valid(defaults | item)]
    assert len(good) + len(bad) == len(variants) and len(bad) == 4
