"""Turn one Kafka message into accepted records and dead letters.

A message is one record or a batch envelope (`{"gateway_id": …, "readings": [...]}` for AMI).
Batch-level fields fill the record fields they map to when a record lacks them. Each record is
checked against the JSON schema derived from its contract; a bad record is dead-lettered on its
own while the good records of the same message are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import fastjsonschema
import orjson

from data_engineering.contracts.spec import Source

_REASON_BY_RULE = {
    "minimum": "out_of_range", "maximum": "out_of_range",
    "exclusiveMinimum": "out_of_range", "exclusiveMaximum": "out_of_range",
    "required": "missing_field",
}


@dataclass(frozen=True)
class DeadLetter:
    source: str
    topic: str
    partition: int
    offset: int
    item: int  # position inside a batch message; -1 for the whole message
    reason: str
    detail: str
    payload: bytes
    key: bytes | None = None


@dataclass(frozen=True)
class Coordinates:
    topic: str
    partition: int
    offset: int
    key: bytes | None = None


class MessageDecoder:
    """Compiled validators for one source; `decode` is the hot path of the ingest worker."""

    def __init__(self, source: Source) -> None:
        self.source = source
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

    def decode(self, value: bytes | None, at: Coordinates) -> tuple[list[dict[str, Any]], list[DeadLetter]]:
        def reject(item: int, reason: str, detail: str, payload: bytes) -> DeadLetter:
            return DeadLetter(self.source.name, at.topic, at.partition, at.offset, item, reason, detail, payload,
                              at.key)

        if not value:
            return [], [reject(-1, "empty_message", "message has no value", value or b"")]
        try:
            doc = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            return [], [reject(-1, "invalid_json", str(exc), value)]
        if not isinstance(doc, dict):
            return [], [reject(-1, "not_an_object", f"expected a JSON object, got {type(doc).__name__}", value)]

        if self.source.batch_field not in doc:
            error = _error(self._check_record, doc)
            return ([doc], []) if error is None else ([], [reject(-1, *error, value)])

        try:
            self._check_envelope(doc)
        except fastjsonschema.JsonSchemaValueException as exc:
            return [], [reject(-1, "invalid_envelope", exc.message, value)]
        defaults = {field: doc[env] for env, field in self.source.envelope_fields.items() if env in doc}
        check_defaults, check_item = self._split_validators(frozenset(defaults))
        envelope_error = _error(check_defaults, defaults)
        if envelope_error is not None:
            return [], [reject(-1, "invalid_envelope", envelope_error[1], value)]
        good: list[dict[str, Any]] = []
        bad: list[DeadLetter] = []
        for i, item in enumerate(doc[self.source.batch_field]):
            error = _error(check_item, item)
            if error is None:
                good.append(defaults | item)
            else:
                bad.append(reject(i, *error, orjson.dumps(item)))
        return good, bad


def _error(check: Callable, record: Any) -> tuple[str, str] | None:
    try:
        check(record)
    except fastjsonschema.JsonSchemaValueException as exc:
        return _REASON_BY_RULE.get(exc.rule, "invalid_value"), exc.message
    return None
