"""Turn one Kafka message into accepted records and dead letters.

A message is one record or a batch envelope (`{"gateway_id": …, "readings": [...]}` for AMI).
Batch-level fields fill the record fields they map to when a record lacks them. Each record is
checked against the JSON schema derived from its contract, then its event time against the accepted
window around its arrival; a bad record is dead-lettered on its own (with the envelope it came in)
while the good records of the same message are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import fastjsonschema
import orjson

from data_engineering.contracts.dead_letter import DeadLetter
from data_engineering.contracts.spec import Source

_REASON_BY_RULE = {
    "minimum": "out_of_range", "maximum": "out_of_range",
    "exclusiveMinimum": "out_of_range", "exclusiveMaximum": "out_of_range",
    "required": "missing_field",
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

    def violation(self, event_ts: str, received_ms: int) -> str | None:
        try:
            event_ms = datetime.fromisoformat(event_ts).timestamp() * 1000
        except ValueError as exc:
            return f"event time {event_ts} cannot be read: {exc}"
        if event_ms < received_ms - self.late_s * 1000:
            return f"event time {event_ts} is more than {self.late_s:.0f} s before its arrival"
        if event_ms > received_ms + self.ahead_s * 1000:
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
        self._check_record = fastjsonschema.compile(self._schema)
        self._check_envelope = fastjsonschema.compile(source.envelope_schema)
        self._split: dict[frozenset[str], tuple[Callable, Callable]] = {}

    def _split_validators(self, filled: frozenset[str]) -> tuple[Callable, Callable]:
        """Validators for a batch whose envelope fills the fields `filled`: one for those values,
        run once per message, and one for each record, where the filled fields are optional (a
        record may still override them, and is then checked). Together they accept exactly the
        merged records the full schema accepts."""
        if filled not in self._split:
            props, required = self._schema["properties"], self._schema["required"]
            envelope = {"type": "object", "properties": {k: props[k] for k in filled},
                        "required": [k for k in required if k in filled]}
            record = self._schema | {"required": [k for k in required if k not in filled]}
            self._split[filled] = (fastjsonschema.compile(envelope), fastjsonschema.compile(record))
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
        time_column = self.source.time_column

        if self.source.batch_field not in doc:
            error = _error(self._check_record, doc) or _out_of_window(window, doc[time_column], received_ms)
            return Decoded(*(([doc], [-1], []) if error is None else ([], [], [reject(-1, *error, value)])), None)

        try:
            self._check_envelope(doc)
        except fastjsonschema.JsonSchemaValueException as exc:
            return Decoded([], [], [reject(-1, "invalid_envelope", exc.message, value)], None)
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
                error = _out_of_window(window, record[time_column], received_ms)
            if error is None:
                good.append(record)
                items.append(i)
            else:
                bad.append(reject(i, *error, orjson.dumps(item), envelope))
        return Decoded(good, items, bad, envelope)


def _out_of_window(window: EventWindow | None, event_ts: str, received_ms: int | None) -> tuple[str, str] | None:
    if window is None:
        return None
    problem = window.violation(event_ts, received_ms)  # type: ignore[arg-type]
    return None if problem is None else ("out_of_window", problem)


def _error(check: Callable, record: Any) -> tuple[str, str] | None:
    try:
        check(record)
    except fastjsonschema.JsonSchemaValueException as exc:
        return _REASON_BY_RULE.get(exc.rule, "invalid_value"), exc.message
    return None
