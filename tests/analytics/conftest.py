"""A small simulated fleet with its readings in PostgreSQL, for the analytics queries."""

from __future__ import annotations

from datetime import UTC, datetime

from data_engineering.contracts.telemetry import telemetry_sources
from data_engineering.simulation.ami_history import ami_history
from data_engineering.simulation.assets import asset_model
from data_engineering.simulation.engine import SimulationConfig, Simulator
from data_engineering.storage.assets import upsert_asset_model
from data_engineering.storage.backfill import backfill
from data_engineering.storage.database import Database

START = datetime(2026, 7, 7, 12, 0, tzinfo=UTC)


def fleet(n_meters: int = 12, **config) -> Simulator:  # noqa: ANN003
    base = dict(start=START, duration_s=1800, n_meters=n_meters, seed=3, random_sags_per_hour=0.0)
    return Simulator(SimulationConfig(**(base | config)))


def load(db: Database, sim: Simulator, duration_s: int, missing_prob: float = 0.0) -> int:
    with db.transaction() as conn:
        upsert_asset_model(conn, asset_model(sim.fleet, sim.grid, sim.config.nominal_voltage_v))
    return backfill(db, telemetry_sources()["ami"], ami_history(sim, sim.config.start, duration_s, missing_prob))
