"""Pole-gateway backhaul: batching, latency and jitter, drops, duplicates and reordering, per
network profile. Delivery is modelled with timestamps and a priority queue — nothing sleeps per
message, so throughput does not depend on latency."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from itertools import count

import numpy as np


@dataclass(frozen=True)
class LinkProfile:
    batch_interval_s: float  # how often the gateway forwards what it collected
    latency_ms: float
    jitter_ms: float
    drop_prob: float  # a whole batch is lost
    duplicate_prob: float  # a batch is sent again after a retry timeout
    reorder_prob: float  # readings inside a batch arrive shuffled
    retry_s: float = 2.0


PROFILES: dict[str, LinkProfile] = {
    "wired": LinkProfile(1.0, 5, 2, 0.0, 0.0005, 0.0),
    "5g": LinkProfile(1.0, 25, 10, 0.0005, 0.001, 0.01),
    "lte_m": LinkProfile(5.0, 250, 120, 0.002, 0.003, 0.05),
    "satellite": LinkProfile(10.0, 650, 200, 0.005, 0.01, 0.1),
}
IDEAL = LinkProfile(1.0, 0, 0, 0.0, 0.0, 0.0)


@dataclass(frozen=True, order=True)
class Delivery:
    arrival_s: float  # simulation seconds since start
    order: int  # tie-break: keeps the queue deterministic
    topic: str
    key: bytes
    value: bytes


class DeliveryQueue:
    """Messages ordered by arrival time at the broker."""

    def __init__(self) -> None:
        self._heap: list[Delivery] = []
        self._order = count()

    def push(self, arrival_s: float, topic: str, key: bytes, value: bytes) -> None:
        heapq.heappush(self._heap, Delivery(arrival_s, next(self._order), topic, key, value))

    def pop_until(self, t_s: float) -> list[Delivery]:
        out = []
        while self._heap and self._heap[0].arrival_s <= t_s:
            out.append(heapq.heappop(self._heap))
        return out

    def drain(self) -> list[Delivery]:
        return self.pop_until(float("inf"))

    def __len__(self) -> int:
        return len(self._heap)


def delays_s(profile: LinkProfile, rng: np.random.Generator, n: int) -> np.ndarray:
    """One-way latency, never negative: normal around the mean, clipped at a fifth of it."""
    mean = profile.latency_ms
    return np.maximum(rng.normal(mean, profile.jitter_ms, size=n), 0.2 * mean) / 1000.0
