import orjson
import pytest

from data_engineering.contracts.telemetry import telemetry_sources
from data_engineering.ingestion.buffer import RecordBuffer
from data_engineering.ingestion.decode import Coordinates, MessageDecoder

AT = Coordinates("ami.readings", 1, 42, b"p-1")
GOOD = {"event_ts": "2026-11-21T12:00:00.250Z", "meter_id": "m-1", "pole_id": "p-1", "seq": 7, "voltage_v": 240.0,
        "current_a": 4.0, "power_kw": 0.9, "network_profile": "wired"}


@pytest.fixture
def decoder():
    return MessageDecoder(telemetry_sources()["ami"])


def test_single_reading(decoder):
    good, bad = decoder.decode(orjson.dumps(GOOD), AT)
    assert good == [GOOD] and bad == []


def test_batch_keeps_good_records_and_dead_letters_each_bad_one(decoder):
    envelope = {"gateway_id": "gw-1", "pole_id": "p-1", "network_profile": "satellite",
                "sent_ts": "2026-11-21T12:00:05Z",
                "readings": [{k: v for k, v in GOOD.items() if k not in ("pole_id", "network_profile")},
                             GOOD | {"seq": 8, "current_a": -1}, "not a reading"]}
    good, bad = decoder.decode(orjson.dumps(envelope), AT)
    assert len(good) == 1
    assert good[0]["gateway_id"] == "gw-1" and good[0]["network_profile"] == "satellite"
    assert good[0]["gateway_ts"] == "2026-11-21T12:00:05Z"
    assert [(b.item, b.reason) for b in bad] == [(1, "out_of_range"), (2, "invalid_value")]
    assert "current_a" in bad[0].detail and bad[0].offset == 42 and bad[0].key == b"p-1"


@pytest.mark.parametrize(("payload", "reason"), [
    (b"", "empty_message"), (b"\xff\xfe", "invalid_json"), (b"3", "not_an_object"),
    (b'{"readings": []}', "invalid_envelope"), (b'{"readings": "x"}', "invalid_envelope"),
    (orjson.dumps({k: v for k, v in GOOD.items() if k != "seq"}), "missing_field"),
    (orjson.dumps(GOOD | {"freq_hz": 99.0}), "out_of_range"),
    (orjson.dumps(GOOD | {"event_ts": "yesterday"}), "invalid_value"),
])
def test_whole_message_rejects_keep_the_original_bytes(decoder, payload, reason):
    good, bad = decoder.decode(payload, AT)
    assert good == [] and [(b.reason, b.item, b.payload) for b in bad] == [(reason, -1, payload)]


def test_buffer_types_columns_and_drops_repeated_keys():
    source = telemetry_sources()["ami"]
    buffer = RecordBuffer(source)
    buffer.extend([GOOD, GOOD | {"event_ts": "2026-11-21T12:00:00.250000Z"}, GOOD | {"seq": 8}], received_ms=5)
    table = buffer.to_arrow(*buffer.take(), ingest_batch=9)
    assert table.num_rows == 2  # the same instant written two ways is one reading
    assert table.column("seq").to_pylist() == [7, 8]
    assert table.column("ingest_batch").to_pylist() == [9, 9]
    assert table.schema.field("event_ts").type.tz == "UTC"


def test_a_bad_envelope_field_rejects_the_whole_batch(decoder):
    envelope = {"gateway_id": "gw-1", "pole_id": "p-1", "network_profile": "carrier_pigeon",
                "readings": [{k: v for k, v in GOOD.items() if k not in ("pole_id", "network_profile")}]}
    good, bad = decoder.decode(orjson.dumps(envelope), AT)
    assert good == [] and [(b.reason, b.item) for b in bad] == [("invalid_envelope", -1)]
    assert "network_profile" in bad[0].detail


def test_split_validation_accepts_exactly_what_the_full_schema_accepts(decoder):
    """Envelope fields checked once per message, the rest per record: same verdicts as checking
    each merged record against the whole schema."""
    import fastjsonschema

    full = fastjsonschema.compile(telemetry_sources()["ami"].record.json_schema())
    own = {k: v for k, v in GOOD.items() if k not in ("pole_id", "network_profile")}
    variants = [own, own | {"pole_id": ""}, own | {"network_profile": "lte_m"}, {**own, "seq": "7"},
                {k: v for k, v in own.items() if k != "event_ts"}, own | {"gateway_ts": "2026-02-30T00:00:00Z"}]
    envelope = {"gateway_id": "gw-1", "pole_id": "p-1", "network_profile": "wired", "readings": variants}
    good, bad = decoder.decode(orjson.dumps(envelope), AT)
    defaults = {"gateway_id": "gw-1", "pole_id": "p-1", "network_profile": "wired"}
    expected_good = []
    for item in variants:
        try:
            full(defaults | item)
            expected_good.append(defaults | item)
        except fastjsonschema.JsonSchemaValueException:
            pass
    assert good == expected_good
    assert len(good) + len(bad) == len(variants) and len(bad) == 4
