from datetime import UTC, datetime

import jsonschema_rs
import orjson
import pytest
from pydantic import ValidationError

from data_engineering.contracts.telemetry import ami_reading, telemetry_sources
from data_engineering.simulation.engine import SimulationConfig, Simulator


@pytest.fixture(scope="module")
def simulated_messages():
    config = SimulationConfig(start=datetime(2026, 11, 21, tzinfo=UTC), duration_s=60, n_meters=12, seed=3)
    return [d for _, batch in Simulator(config).run() for d in batch]


def test_every_simulated_record_satisfies_its_json_schema_and_pydantic_model(simulated_messages):
    by_topic = {s.topic: s for s in telemetry_sources().values()}
    checked = 0
    for delivery in simulated_messages:
        source = by_topic[delivery.topic]
        validate = jsonschema_rs.Draft7Validator(source.record.json_schema(), validate_formats=True).validate
        model = source.record.pydantic_model()
        doc = orjson.loads(delivery.value)
        envelope = {f: doc[e] for e, f in source.envelope_fields.items() if e in doc}
        for record in doc.get(source.batch_field, [doc]):
            validate(envelope | record)
            model.model_validate(envelope | record)
            checked += 1
    assert checked > 12 * 60


def test_voltage_bounds_follow_the_nominal_voltage():
    spec = ami_reading(nominal_voltage_v=120.0)
    assert spec.field("voltage_v").maximum == 240.0
    model = spec.pydantic_model()
    good = {"event_ts": "2026-11-21T00:00:00Z", "meter_id": "m", "pole_id": "p", "seq": 0, "voltage_v": 121.0,
            "current_a": 1.0, "power_kw": 0.1, "network_profile": "wired"}
    model.model_validate(good)
    with pytest.raises(ValidationError):
        model.model_validate(good | {"voltage_v": 241.0})
    assert not jsonschema_rs.Draft7Validator(spec.json_schema()).is_valid(good | {"network_profile": "carrier_pigeon"})


@pytest.mark.parametrize("stamp", ["2026-11-21T00:00:00", "2026-11-21 00:00:00Z", "1800-01-01T00:00:00Z",
                                   "2026-11-21T00:00:00.1234567890Z"])
def test_timestamps_must_be_rfc3339_with_offset_in_a_storable_range(stamp):
    validator = jsonschema_rs.Draft7Validator(ami_reading().field("event_ts").json_schema(), validate_formats=True)
    assert not validator.is_valid(stamp)
