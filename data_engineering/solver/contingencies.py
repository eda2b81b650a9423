"""N-1 branch contingency lists, with outages that island the network left out and reported."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data_engineering.solver.case import Case, Contingency
from data_engineering.solver.network import is_connected


@dataclass(frozen=True)
class ContingencyList:
    secure: tuple[Contingency, ...]  # outages the dispatch must survive
    islanding: tuple[Contingency, ...]  # outages that split the network: no DC flow solution, reported only


def n_minus_1(case: Case) -> ContingencyList:
    """Every in-service branch whose outage leaves the network connected (graph test, not a tolerance)."""
    secure, islanding = [], []
    for k in np.flatnonzero(case.branches.in_service):
        live = case.branches.in_service.copy()
        live[k] = False
        (secure if is_connected(case, live) else islanding).append(case.contingency(int(k)))
    return ContingencyList(tuple(secure), tuple(islanding))


def select(case: Case, spec: str) -> tuple[Case, ContingencyList]:
    """`all` (every non-islanding N-1 outage), `none`, `case` (the case's own list), a count N (the
    first N of the N-1 list, in branch order), or a comma list of branch names (`1-2,3-4`)."""
    full = n_minus_1(case)
    spec = spec.strip().lower()
    if spec == "all":
        chosen = full.secure
    elif spec == "none":
        chosen = ()
    elif spec == "case":
        chosen = case.contingencies
    elif spec.isdigit():
        chosen = full.secure[:int(spec)]
    else:
        by_name = {case.branches.names[c.branch].lower(): c for c in (*full.secure, *full.islanding)}
        unknown = [s for s in spec.split(",") if s.strip() not in by_name]
        if unknown:
            raise ValueError(f"unknown branches {unknown}; names look like {case.branches.names[0]!r}")
        chosen = tuple(by_name[s.strip()] for s in spec.split(","))
        islands = [c.label for c in chosen if c in full.islanding]
        if islands:
            raise ValueError(f"{islands} island the network and cannot be secured in a DC model")
    return case.with_contingencies(chosen), full
