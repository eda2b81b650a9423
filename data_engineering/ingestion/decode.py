"""Turn one Kafka message into accepted records and dead letters.

A message is one record or a batch envelope (`{"gateway_id": …, "readings": [...]}` for AMI).
Batch-level fields fill the record fields they map to when a record lacks them. Each record is
checked against the JSON schema derived from its contract, then its event time against the accepted
window around its arrival; a bad record is dead-lettered on its own (with the envelope it came in)
while the good records of the same message are kept. The schemas are checked by jsonschema-rs
(compiled Rust): a third of the cost of a generated Python validator, and validation is most of
the worker's time per record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import jsonschema_rs
import orjson

from data_engineering.contracts.dead_letter import DeadLetter
from data_engineering.contracts.spec import Source

_REASON_BY_KIND = {
    "Minimum": "out_of_range", "Maximum": "out_of_range",
    "ExclusiveMinimum": "out_of_range", "ExclusiveMaximum": "out_of_range",
    "Required": "missing_field",
}


@dataclass(frozen=True)
class Coordinates:
    topic: str
    partition: int
    offset: int
    key: bytes | None = None


@dataclass(frozen=True)
class EventWindow:
    """Event times accepted relative to a record's arrival: at most `late_s` before it, at most
    `ahead_s` after it (clock skew). Outside: dead letter `out_of_window`."""

    late_s: float
    ahead_s: float

    def around(self, received_ms: int) -> tuple[datetime, datetime]:
        """The event times accepted for a record that arrived at `received_ms`."""
        arrival = datetime.fromtimestamp(received_ms / 1000, UTC)
        return arrival - timedelta(seconds=self.late_s), arrival + timedelta(seconds=self.ahead_s)

    def violation(self, event_ts: str, bounds: tuple[datetime, datetime]) -> str | None:
        try:
            at = datetime.fromisoformat(event_ts)
        except ValueError as exc:
            return f"event time {event_ts} cannot be read: {exc}"
        if at < bounds[0]:
            return f"event time {event_ts} is more than {self.late_s:.0f} s before its arrival"
        if at > bounds[1]:
            return f"event time {event_ts} is more than {self.ahead_s:.0f} s after its arrival"
        return None


class Decoded(NamedTuple):
    good: list[dict[str, Any]]
    items: list[int]  # each good record's position in its batch message (-1 for a single record)
    dead: list[DeadLetter]
    envelope: bytes | None  # a batch message's own fields, as JSON


class MessageDecoder:
    """Compiled validators for one source; `decode` is the hot path of the ingest worker."""

    def __init__(self, source: Source, window: EventWindow | None = None) -> None:
        self.source = source
        self.window = window
        self._schema = source.record.json_schema()
        self._check_record = _compile(self._schema)
        self._check_envelope = _compile(source.envelope_schema)
        self._split: dict[frozenset[str], tuple[jsonschema_rs.Validator, jsonschema_rs.Validator]] = {}

    def _split_validators(self, filled: frozenset[str]) -> tuple[jsonschema_rs.Validator, jsonschema_rs.Validator]:
        """Validators for a batch whose envelope fills the fields `filled`: one for those values,
        run once per message, and one for each record, where the filled fields are optional (a
        record may still override them, and is then checked). Together they accept exactly the
        merged records the full schema accepts."""
        if filled not in self._split:
            props, required = self._schema["properties"], self._schema["required"]
            envelope = {"type": "object", "properties": {k: props[k] for k in filled},
                        "required": [k for k in required if k in filled]}
            record = self._schema | {"required": [k for k in required if k not in filled]}
            self._split[filled] = (_compile(envelope), _compile(record))
        return self._split[filled]

    def decode(self, value: bytes | None, at: Coordinates, received_ms: int | None = None) -> Decoded:
        """`received_ms` (the Kafka timestamp) anchors the event-time window; None skips it."""
        def reject(item: int, reason: str, detail: str, payload: bytes, envelope: bytes | None = None) -> DeadLetter:
            return DeadLetter(self.source.name, at.topic, at.partition, at.offset, item, reason, detail, payload,
                              at.key, envelope)

        if not value:
            return Decoded([], [], [reject(-1, "empty_message", "message has no value", value or b"")], None)
        try:
            doc = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            return Decoded([], [], [reject(-1, "invalid_json", str(exc), value)], None)
        if not isinstance(doc, dict):
            return Decoded([], [], [reject(-1, "not_an_object", f"expected a JSON object, got {type(doc).__name__}",
                                           value)], None)
        window = self.window if received_ms is not None and received_ms > 0 else None
        bounds = window.around(received_ms) if window is not None else None  # type: ignore[arg-type]
        time_column = self.source.time_column

        if self.source.batch_field not in doc:
            error = _error(self._check_record, doc) or _out_of_window(window, doc[time_column], bounds)
            return Decoded(*(([doc], [-1], []) if error is None else ([], [], [reject(-1, *error, value)])), None)

        envelope_error = _error(self._check_envelope, doc)
        if envelope_error is not None:
            return Decoded([], [], [reject(-1, "invalid_envelope", envelope_error[1], value)], None)
        defaults = {field: doc[env] for env, field in self.source.envelope_fields.items() if env in doc}
        check_defaults, check_item = self._split_validators(frozenset(defaults))
        envelope_error = _error(check_defaults, defaults)
        if envelope_error is not None:
            return Decoded([], [], [reject(-1, "invalid_envelope", envelope_error[1], value)], None)
        envelope = orjson.dumps({k: v for k, v in doc.items() if k != self.source.batch_field})
        good: list[dict[str, Any]] = []
        items: list[int] = []
        bad: list[DeadLetter] = []
        for i, item in enumerate(doc[self.source.batch_field]):
            error = _error(check_item, item)
            record = defaults | item if error is None else item
            if error is None:
                error = _out_of_window(window, record[time_column], bounds)
            if error is None:
                good.append(record)
                items.append(i)
            else:
                bad.append(reject(i, *error, orjson.dumps(item), envelope))
        return Decoded(good, items, bad, envelope)


def _out_of_window(window: EventWindow | None, event_ts: str,
                   bounds: tuple[datetime, datetime] | None) -> tuple[str, str] | None:
    if window is None:
        return None
    problem = window.violation(event_ts, bounds)  # type: ignore[arg-type]
    return None if problem is None else ("out_of_window", problem)


def _compile(schema: dict[str, Any]) -> jsonschema_rs.Validator:
    return jsonschema_rs.Draft7Validator(schema, validate_formats=True)


def _error(check: jsonschema_rs.Validator, record: Any) -> tuple[str, str] | None:
    """(reason, detail) of the first rule the record breaks; None when it breaks none."""
    if check.is_valid(record):
        return None
    error = next(iter(check.iter_errors(record)))
    where = ".".join(str(p) for p in error.instance_path)
    return (_REASON_BY_KIND.get(type(error.kind).__name__, "invalid_value"),
            f"{where}: {error.message}" if where else error.message)
