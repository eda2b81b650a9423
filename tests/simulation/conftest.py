import pytest

from data_engineering.simulation.grid import load_reference_grid
from tests.simulation.streams import simulate


@pytest.fixture(scope="session")
def grid():
    return load_reference_grid("case14")


@pytest.fixture(scope="session")
def baseline(grid):
    """The default small run of `streams.simulate`, no faults: what the phase and fault tests read."""
    return simulate(grid)
