"""Publish a simulation to Kafka with kafka-python, paced by an accelerated clock.

`speed` = simulated seconds per wall second (1 = real time, 60 = a minute a second, 0 = as fast as
possible, for backfills). Pacing waits at most once per tick, never per message.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kafka import KafkaProducer

from data_engineering.simulation.engine import SimulationReport, Simulator


def make_producer(bootstrap_servers: str, compression: str = "lz4") -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=20, batch_size=1 << 20,
                         max_request_size=16 << 20, compression_type=None if compression == "none" else compression)


def publish(sim: Simulator, producer: KafkaProducer, speed: float = 0.0,
            on_tick: Callable[[float, int], None] | None = None) -> SimulationReport:
    wall0 = time.monotonic()
    sent = 0
    for t_s, deliveries in sim.run():
        if speed > 0:
            wait = wall0 + t_s / speed - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        for d in deliveries:
            producer.send(d.topic, key=d.key, value=d.value)
        sent += len(deliveries)
        if on_tick is not None:
            on_tick(t_s, sent)
    producer.flush()
    return sim.report
