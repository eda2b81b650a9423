import uuid
from datetime import UTC, datetime

import pytest

from data_engineering.simulation.assets import asset_model
from data_engineering.simulation.engine import SimulationConfig, Simulator
from data_engineering.simulation.grid import load_reference_grid
from data_engineering.simulation.phases import meter_phases
from data_engineering.storage.database import Database
from data_engineering.twin.cim import cim_twin
from data_engineering.twin.dtdl import interface_document
from data_engineering.twin.ontology import INTERFACES

START = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def grid():
    return load_reference_grid(SimulationConfig.case)  # the case register_simulated_grid loads


def simulator(grid, seed: int = 7, n_meters: int = 60) -> Simulator:
    return Simulator(SimulationConfig(start=START, duration_s=60, n_meters=n_meters, seed=seed), grid)


def simulated_twin(sim: Simulator):
    return cim_twin(asset_model(sim.fleet, sim.grid, sim.config.nominal_voltage_v),
                    meter_phases(sim.fleet, sim.config.seed))


@pytest.fixture
def sim(grid) -> Simulator:
    return simulator(grid)


@pytest.fixture
def twin(sim):
    return simulated_twin(sim)


@pytest.fixture
def models():
    return [interface_document(i) for i in INTERFACES]


@pytest.fixture
def empty_database(pg_server):
    """A database of its own, migrated by the test (to what it needs)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield Database(pg_server.create_database(name))
    pg_server.drop_database(name)
