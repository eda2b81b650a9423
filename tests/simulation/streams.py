"""Run a small simulation and take its messages apart by stream (the phase and fault tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

import orjson

from data_engineering.simulation.backhaul import Delivery
from data_engineering.simulation.engine import SimulationConfig, Simulator
from data_engineering.simulation.grid import ReferenceGrid

START = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
DEFAULTS = dict(start=START, duration_s=120, n_meters=80, seed=5, ideal_backhaul=True, missing_prob=0.0,
                random_sags_per_hour=0.0)


@dataclass
class Run:
    sim: Simulator
    deliveries: list[Delivery]

    def batches(self, topic: str) -> list[dict]:
        return [orjson.loads(d.value) for d in self.deliveries if d.topic == topic]

    @cached_property
    def ami(self) -> dict[tuple[str, int], dict]:
        """Readings by (meter, seq), each with its envelope's pole and send time."""
        return {(r["meter_id"], r["seq"]): r | {"pole_id": b["pole_id"], "sent_ts": b["sent_ts"]}
                for b in self.batches("ami.readings") for r in b["readings"]}

    @cached_property
    def phases(self) -> dict[tuple[str, str], dict]:
        """Phase records by (point, time)."""
        return {(r["point_id"], r["ts"]): r for b in self.batches("scada.phases") for r in b["measurements"]}


def simulate(grid: ReferenceGrid, **overrides: object) -> Run:
    sim = Simulator(SimulationConfig(**(DEFAULTS | overrides)), grid)
    return Run(sim, [d for _, batch in sim.run() for d in batch])


def seconds(ts: str) -> float:
    return (datetime.fromisoformat(ts.replace("Z", "+00:00")) - START).total_seconds()
