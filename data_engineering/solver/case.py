"""The LASCOPF case: a DC network, its generators, loads per interval and the contingencies to secure.

Arrays are indexed by position (bus index, branch index, generator index); external MATPOWER bus
numbers live in `Buses.ids` and are used only for names. Powers are in MW, costs in $/h with P in MW,
so `c2` is $/MW²h and `c1` $/MWh, as MATPOWER's polynomial `gencost` rows give them.

`load_mw` is the P50 load forecast the dispatch serves. `load_band_mw`, when given, holds other
trajectories of the same forecast (K, T, N) — the P10 and P90 ones — that a solve with
`SolveOptions.secure_spread` must also stay secure for (see `model.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


@dataclass(frozen=True, eq=False)
class Buses:
    ids: np.ndarray  # external (MATPOWER) bus numbers
    ref: int  # index of the angle reference bus

    @property
    def n(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, eq=False)
class Branches:
    from_bus: np.ndarray  # bus index
    to_bus: np.ndarray
    x_pu: np.ndarray  # series reactance used by the DC model (1 / b)
    rate_mw: np.ndarray  # normal rating; inf where the case gives none
    emergency_mw: np.ndarray  # post-contingency rating
    in_service: np.ndarray  # bool
    names: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.x_pu)


@dataclass(frozen=True, eq=False)
class Generators:
    bus: np.ndarray  # bus index
    c2: np.ndarray  # $/MW²h
    c1: np.ndarray  # $/MWh
    c0: np.ndarray  # $/h
    pmin_mw: np.ndarray
    pmax_mw: np.ndarray
    ramp_up_mw: np.ndarray  # per interval
    ramp_down_mw: np.ndarray  # per interval, positive
    p0_mw: np.ndarray  # measured output at t = 0
    names: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.c1)


@dataclass(frozen=True)
class Contingency:
    """The outage of one branch or of one generator (by index; the other index is -1)."""

    branch: int
    label: str
    generator: int = -1

    @property
    def is_generator(self) -> bool:
        return self.generator >= 0


@dataclass(frozen=True, eq=False)
class Case:
    name: str
    base_mva: float
    buses: Buses
    branches: Branches
    generators: Generators
    load_mw: np.ndarray  # (intervals, buses)
    contingencies: tuple[Contingency, ...] = ()
    interval_minutes: float = 60.0
    notes: tuple[str, ...] = field(default=())  # what the loader assumed (default ramps, profiles, ...)
    load_band_mw: np.ndarray | None = None  # (trajectories, intervals, buses): e.g. the P10 and P90 loads

    def __post_init__(self) -> None:
        if self.load_band_mw is None:
            return
        band = np.asarray(self.load_band_mw, dtype=float)
        if band.ndim != 3 or band.shape[1:] != np.shape(self.load_mw):
            raise ValueError(f"load band must be (trajectories, {', '.join(map(str, np.shape(self.load_mw)))}) "
                             f"like load_mw, got {band.shape}")
        object.__setattr__(self, "load_band_mw", band)

    @property
    def intervals(self) -> int:
        return self.load_mw.shape[0]

    def with_contingencies(self, contingencies: tuple[Contingency, ...] | list[Contingency]) -> Case:
        return replace(self, contingencies=tuple(contingencies))

    def with_emergency_factor(self, factor: float) -> Case:
        """Emergency (post-contingency) ratings set to `factor` × the normal rating."""
        branches = replace(self.branches, emergency_mw=self.branches.rate_mw * factor)
        return replace(self, branches=branches, notes=(*self.notes, f"emergency ratings = {factor:g} x normal"))

    def with_ramp_factor(self, factor: float) -> Case:
        """Every unit's ramp-up and ramp-down limits scaled by `factor` (< 1: tighter ramps)."""
        if factor <= 0:
            raise ValueError(f"ramp factor must be positive, got {factor:g}")
        generators = replace(self.generators, ramp_up_mw=self.generators.ramp_up_mw * factor,
                             ramp_down_mw=self.generators.ramp_down_mw * factor)
        return replace(self, generators=generators, notes=(*self.notes, f"ramps = {factor:g} x the case's"))

    def with_loads(self, load_mw: np.ndarray) -> Case:
        load = np.asarray(load_mw, dtype=float)
        if load.ndim != 2 or load.shape[1] != self.buses.n:
            raise ValueError(f"loads must be (intervals, {self.buses.n}), got {load.shape}")
        return replace(self, load_mw=load)

    def contingency(self, branch: int) -> Contingency:
        return Contingency(branch, f"outage {self.branches.names[branch]}")

    def generator_contingency(self, generator: int) -> Contingency:
        return Contingency(-1, f"outage G:{self.generators.names[generator]}", generator)

    def bus_index(self, bus_id: int) -> int:
        hits = np.flatnonzero(self.buses.ids == bus_id)
        if len(hits) != 1:
            raise KeyError(f"bus {bus_id} not in case {self.name}")
        return int(hits[0])
