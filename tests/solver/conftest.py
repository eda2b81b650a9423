from __future__ import annotations

import pytest

from data_engineering.solver.case import Case
from data_engineering.solver.cases import load_case
from data_engineering.solver.contingencies import select

SECURABLE_PAPER5 = "2-3,2-4,2-5,3-4,4-5"  # the five outages a preventive dispatch can survive


@pytest.fixture
def paper5() -> Case:
    return load_case("paper5")


@pytest.fixture
def paper5_secure(paper5: Case) -> Case:
    return select(paper5, SECURABLE_PAPER5)[0]
