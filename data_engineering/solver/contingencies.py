"""Contingency lists: N-1 branch outages, generator outages, and what to do with outages that island.

An outage that cuts buses off the reference bus has no DC flow solution for them. Under the default
policy (`islanding="refuse"`) such an outage is left out of `all` and of a count (and reported), and
refused with a message when named, whether by the user or by the case's own list; under `"shed"` it
is kept and solved with the cut-off buses' load unserved. `Model` applies the same policy to
whatever reaches it, so no path can model an islanding outage as if nothing happened.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data_engineering.solver.case import Case, Contingency
from data_engineering.solver.network import Bridges


@dataclass(frozen=True)
class ContingencyList:
    secure: tuple[Contingency, ...]  # non-islanding N-1 branch outages
    islanding: tuple[Contingency, ...]  # branch outages that split the network


class IslandingRefused(ValueError):
    pass


def islanded_buses(case: Case, contingency: Contingency, bridges: Bridges | None = None) -> np.ndarray:
    """Bool per bus: cut off from the reference bus by this outage and not already in the base
    topology (none for a generator outage). Pass `bridges` (of `case`) when asking for many outages."""
    if contingency.is_generator:
        return np.zeros(case.buses.n, dtype=bool)
    return (bridges or Bridges(case)).cut_off(contingency.branch)


def refusal(case: Case, islanding: list[Contingency]) -> IslandingRefused:
    bridges = Bridges(case)
    cut = [f"{c.label} (buses {', '.join(str(b) for b in case.buses.ids[islanded_buses(case, c, bridges)])})"
           for c in islanding]
    return IslandingRefused(f"{'; '.join(cut)}: cut buses off the reference bus, where a DC model has no flow "
                            "solution; refused (islanding='shed' solves them with the cut-off load unserved)")


def base_refusal(case: Case, island: np.ndarray) -> IslandingRefused:
    ids = ", ".join(str(b) for b in case.buses.ids[island])
    return IslandingRefused(f"case {case.name}: buses {ids} are cut off from the reference bus by branches out of "
                            "service; refused (islanding='shed' solves the rest with their load unserved)")


def n_minus_1(case: Case) -> ContingencyList:
    """Every in-service branch, split by whether its outage leaves the network connected (graph test)."""
    secure, islanding = [], []
    bridges = Bridges(case)
    for k in np.flatnonzero(case.branches.in_service):
        c = case.contingency(int(k))
        (islanding if bridges.cut_off(int(k)).any() else secure).append(c)
    return ContingencyList(tuple(secure), tuple(islanding))


def generator_outages(case: Case) -> tuple[Contingency, ...]:
    g = case.generators
    return tuple(case.generator_contingency(int(i)) for i in np.flatnonzero(g.pmax_mw > 0))


def _named(case: Case, token: str, full: ContingencyList) -> Contingency:
    if token.startswith("g:"):
        units = {n.lower(): i for i, n in enumerate(case.generators.names)}
        if token[2:] not in units:
            raise ValueError(f"unknown unit {token[2:]!r}; names look like G:{case.generators.names[0]}")
        return case.generator_contingency(units[token[2:]])
    by_name = {case.branches.names[c.branch].lower(): c for c in (*full.secure, *full.islanding)}
    if token not in by_name:
        raise ValueError(f"unknown branches {[token]}; names look like {case.branches.names[0]!r}")
    return by_name[token]


def select(case: Case, spec: str, islanding: str = "refuse") -> tuple[Case, ContingencyList]:
    """A comma list of: `all` (every N-1 branch outage), `all-gen` (every unit), `none`, `case` (the
    case's own list), a count N (the first N of the N-1 list, in branch order), branch names (`1-2`)
    or units (`G:<unit>`). Under `islanding="refuse"`, `all` and N leave islanding outages out and a
    named one (or one in the case's list) is refused; under `"shed"` they are kept."""
    if islanding not in ("refuse", "shed"):
        raise ValueError(f"islanding {islanding!r}: refuse or shed")
    full = n_minus_1(case)
    branch_list = full.secure if islanding == "refuse" else tuple(
        sorted((*full.secure, *full.islanding), key=lambda c: c.branch))
    chosen: list[Contingency] = []
    named: list[Contingency] = []
    for token in (t.strip() for t in spec.strip().lower().split(",")):
        if token == "none":
            continue
        if token == "all":
            chosen += branch_list
        elif token == "all-gen":
            chosen += generator_outages(case)
        elif token.isdigit():
            chosen += branch_list[:int(token)]
        elif token == "case":
            named += case.contingencies
        else:
            named.append(_named(case, token, full))
    bridges = Bridges(case)
    islands = [c for c in named if islanded_buses(case, c, bridges).any()]
    if islands and islanding == "refuse":
        raise refusal(case, islands)
    unique = tuple(dict.fromkeys((*chosen, *named)))
    return case.with_contingencies(unique), full
