"""Bad input for the fault soak, from a producer that is not ours (librdkafka, via confluent-kafka).

Each message is drawn from a catalogue of what real feeds get wrong, and carries what the platform
must make of it: readings stored under their natural key, or dead letters with a reason. The
expectation is recorded only once the broker acknowledged the message, so it holds exactly what
reached the topic.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

ANY_REASON = "*"  # random bytes: dead-lettered, for whichever reason the first check finds


@dataclass
class Expected:
    stored: set[tuple[str, int]] = field(default_factory=set)  # (meter_id, seq)
    dead: Counter = field(default_factory=Counter)  # reason → count
    messages: int = 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def reading(meter_id: str, seq: int, **changes: object) -> dict:
    """A direct meter feed in the AMI 2.0 tutorial's shape: no gateway, no `network_profile`."""
    return {"event_ts": _now(), "meter_id": meter_id, "pole_id": f"pole-{meter_id}", "seq": seq,
            "voltage_v": 239.0, "current_a": 3.0, "power_kw": 0.7} | changes


def catalogue(n: int, rng: random.Random) -> list[tuple[bytes, list[tuple[str, object]]]]:
    """Message `n` of one kind: [(value, [("stored", key) | ("dead", reason)])], sent in order to one
    partition (one Kafka key)."""
    m = f"x-{n:07d}"
    kind = rng.randrange(11)
    dumps = lambda doc: json.dumps(doc).encode()  # noqa: E731 - stdlib json writes 2**63 and NaN, orjson refuses
    if kind == 0:
        return [(dumps(reading(m, 0)), [("stored", (m, 0))])]
    if kind == 1:
        return [(rng.randbytes(rng.randrange(1, 200)), [("dead", ANY_REASON)])]
    if kind == 2:
        return [(b"", [("dead", "empty_message")])]
    if kind == 3:
        return [(dumps(reading(m, 2**63)), [("dead", "out_of_range")])]
    if kind == 4:
        return [(dumps(reading(m + "\x00", 0)), [("dead", "invalid_value")])]
    if kind == 5:
        return [(dumps(reading(m, 0, event_ts=rng.choice(["1900-01-01T00:00:00Z", "2199-12-31T23:59:59Z"]))),
                 [("dead", "out_of_window")])]
    if kind == 6:
        first = reading(m, 0)
        return [(dumps(first), [("stored", (m, 0))]),
                (dumps(first | {"voltage_v": 201.5}), [("dead", "conflicting_duplicate")])]
    if kind == 7:
        first = reading(m, 0)
        return [(dumps(first), [("stored", (m, 0))]),
                (dumps(first | {"event_ts": "2026-01-01T00:00:00Z"}), [("dead", "out_of_window")]),
                (dumps(first), [])]  # an exact re-send: absorbed
    if kind == 8:
        batch = {"gateway_id": f"gw-{m}", "pole_id": f"pole-{m}", "network_profile": "lte_m", "sent_ts": _now(),
                 "readings": [reading(m, 0), reading(m, 1, current_a=-5.0), reading(m, 2)]}
        return [(dumps(batch), [("stored", (m, 0)), ("dead", "out_of_range"), ("stored", (m, 2))])]
    if kind == 9:
        return [(dumps(reading(m, 0, voltage_v=float("nan"))), [("dead", "invalid_json")])]
    return [(dumps({"readings": "not a list"}), [("dead", "invalid_envelope")])]


class PoisonProducer:
    """Sends `rate_per_s` catalogue messages a second on a thread until stopped."""

    def __init__(self, bootstrap: str, topic: str, rate_per_s: float, seed: int = 1) -> None:
        from confluent_kafka import Producer

        self.topic, self.rate_per_s = topic, rate_per_s
        self.rng = random.Random(seed)
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": False,
                                  "max.in.flight.requests.per.connection": 1, "linger.ms": 5})
        self.expected = Expected()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-poison", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.producer.flush(30)

    def _run(self) -> None:
        n = 0
        while not self._stop.wait(1 / self.rate_per_s):
            for value, outcomes in catalogue(n, self.rng):
                self.producer.produce(self.topic, value=value, key=f"x-{n:07d}".encode(),
                                      on_delivery=lambda err, _msg, o=outcomes: self._delivered(err, o))
            self.producer.poll(0)
            n += 1
        self.producer.flush(30)

    def _delivered(self, err: object, outcomes: list[tuple[str, object]]) -> None:
        if err is not None:
            return
        with self._lock:
            self.expected.messages += 1
            for what, detail in outcomes:
                if what == "stored":
                    self.expected.stored.add(detail)  # type: ignore[arg-type]
                else:
                    self.expected.dead[detail] += 1
