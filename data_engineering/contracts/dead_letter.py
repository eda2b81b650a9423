"""A record the platform could not accept: where it came from, why, and its original bytes.

Shared by the decoder (contract violations), the ingest worker (records the store rejected) and the
telemetry writer (which stores them), so it lives with the contracts rather than in any of them."""

from __future__ import annotations

from dataclasses import dataclass


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
    envelope: bytes | None = None  # a batch item's envelope fields (gateway id, backhaul, sent time) as JSON
    natural_key: dict | None = None  # conflicting_duplicate: the key the stored version is found by

    def __post_init__(self) -> None:
        # The reason's detail may echo the offending value; PostgreSQL's text cannot hold NUL.
        object.__setattr__(self, "detail", self.detail.replace("\x00", "\\x00"))
