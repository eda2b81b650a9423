"""Turn one Kafka message into accepted records and dead letters.

A message is one record or a batch envelope (`{"gateway_id": …, "readings": [...]}` for AMI).
Batch-level fields fill the record fields they map to when a record lacks them. Each record is
checked against the JSON schema derived from its contract; a bad record is dead-lettered on its
own while the good records of the same message are kept.
"""

from __future__ import annotations

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
        self._check_record = fastjsonschema.compile(source.record.json_schema())
        self._check_envelope = fastjsonschema.compile(source.envelope_schema)

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
            error = self._error(doc)
            return ([doc], []) if error is None else ([], [reject(-1, *error, value)])

        try:
            self._check_envelope(doc)
        except fastjsonschema.JsonSchemaValueException as exc:
            return [], [reject(-1, "invalid_envelope", exc.message, value)]
        defaults = {field: doc[env] for env, field in self.source.envelope_fields.items() if env in doc}
        good: list[dict[str, Any]] = []
        bad: list[DeadLetter] = []
        for i, item in enumerate(doc[self.source.batch_field]):
            record = defaults | item if isinstance(item, dict) else item
            error = self._error(record)
            if error is None:
                good.append(record)
            else:
                bad.append(reject(i, *error, orjson.dumps(item)))
        return good, bad

    def _error(self, record: Any) -> tuple[str, str] | None:
        try:
            self._check_record(record)
        except fastjsonschema.JsonSchemaValueException as exc:
            return _REASON_BY_RULE.get(exc.rule, "invalid_value"), exc.message
        return None
