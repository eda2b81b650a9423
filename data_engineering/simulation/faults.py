"""Labelled fault injection: what each fault kind does to the simulated grid, a random generator
of faults, and the labels that record them.

Faults are deterministic transforms of the simulator's state, and everything random about them
(the generated faults themselves) comes from a generator of its own: a run with faults differs
from the same seed without them only in the rows the faults touch, and the same seed gives the
same faults. Severity by kind (`KINDS`):

- voltage_sag / voltage_swell: depth / rise as a share of the voltage (5–40 % / 5–20 %), at a
  transformer (and its meters) or a whole feeder
- phase_loss: share of the phase's voltage lost (90–100 %): V ≈ 0 on that phase at the
  transformer and its meters; three-phase customers lose that third of their load
- phase_unbalance: NEMA voltage unbalance (1–10 %): the phase rises by it, the other two fall by half
- transformer_overload: loading over the rating (100–150 %): its customers' load rises to match
- frequency_excursion: offset from the system frequency (0.1–1 Hz, up or down)
- meter_flatline: the meter repeats the values of the fault's first sample (severity 1)
- meter_tamper: share of the power the meter hides (20–90 %); the transformer still sees it all
- comm_loss: the pole's gateway sends nothing, its readings are lost (severity 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from data_engineering.contracts.faults import FaultLabel
from data_engineering.simulation.assets import Fleet
from data_engineering.twin.cim import THREE_PHASE, transformer_id

FAULT_STREAM = 0x464C5453  # "FLTS": the fault generator's key next to the simulation seed
SYSTEM = "system"


@dataclass(frozen=True)
class KindSpec:
    target_kinds: tuple[str, ...]
    severity: tuple[float, float]
    duration_s: tuple[float, float]  # what the random generator draws from
    phased: bool = False


KINDS: dict[str, KindSpec] = {
    "voltage_sag": KindSpec(("transformer", "feeder"), (0.05, 0.40), (1, 30)),
    "voltage_swell": KindSpec(("transformer", "feeder"), (0.05, 0.20), (1, 30)),
    "phase_loss": KindSpec(("transformer",), (0.90, 1.0), (10, 300), phased=True),
    "phase_unbalance": KindSpec(("transformer",), (0.01, 0.10), (60, 900), phased=True),
    "transformer_overload": KindSpec(("transformer",), (1.0, 1.5), (60, 900)),
    "frequency_excursion": KindSpec((SYSTEM,), (0.1, 1.0), (5, 60)),
    "meter_flatline": KindSpec(("meter",), (1.0, 1.0), (60, 900)),
    "meter_tamper": KindSpec(("meter",), (0.2, 0.9), (300, 1800)),
    "comm_loss": KindSpec(("gateway",), (1.0, 1.0), (30, 600)),
}


@dataclass(frozen=True)
class Fault:
    """One injected fault; `phase` (A, B or C) for the phased kinds, `direction` (+1 or -1) for
    a frequency excursion."""

    kind: str
    target_kind: str
    target_id: str
    start_s: float
    duration_s: float
    severity: float
    phase: str | None = None
    direction: int = 1

    def __post_init__(self) -> None:
        spec = KINDS.get(self.kind)
        if spec is None:
            raise ValueError(f"unknown fault kind {self.kind!r}: one of {sorted(KINDS)}")
        if self.target_kind not in spec.target_kinds:
            raise ValueError(f"{self.kind} targets a {' or '.join(spec.target_kinds)}, not a {self.target_kind}")
        lo, hi = spec.severity
        if not lo <= self.severity <= hi:
            raise ValueError(f"{self.kind} severity {self.severity} outside [{lo}, {hi}]")
        if spec.phased != (self.phase is not None) or (self.phase is not None and self.phase not in tuple(THREE_PHASE)):
            raise ValueError(f"{self.kind}: phase {self.phase!r}")
        if self.duration_s <= 0 or self.direction not in (1, -1):
            raise ValueError(f"{self.kind}: duration {self.duration_s}, direction {self.direction}")

    def active(self, t_s: float) -> bool:
        return self.start_s <= t_s < self.start_s + self.duration_s

    def parameters(self) -> dict[str, object]:
        out: dict[str, object] = {"start_s": self.start_s, "duration_s": self.duration_s}
        if self.phase is not None:
            out["phase"] = self.phase
        if self.kind == "frequency_excursion":
            out["offset_hz"] = self.direction * self.severity
        return out


def fault_labels(faults: list[Fault], start: datetime, seed: int) -> list[FaultLabel]:
    """Ids stable for a run (its start and seed), so registering it again rewrites the same rows."""
    return [FaultLabel(f"sim-{seed}-{start:%Y%m%dT%H%M%SZ}-{n:04d}", f.kind, f.target_kind, f.target_id,
                       start + timedelta(seconds=f.start_s), start + timedelta(seconds=f.start_s + f.duration_s),
                       f.severity, f.parameters()) for n, f in enumerate(faults)]


def targets(fleet: Fleet) -> dict[str, list[str]]:
    return {"transformer": [transformer_id(p) for p in fleet.pole_ids], "feeder": list(fleet.feeder_ids),
            "meter": list(fleet.meter_ids), "gateway": [fleet.gateway_id(i) for i in range(len(fleet.pole_ids))],
            SYSTEM: [SYSTEM]}


def random_faults(fleet: Fleet, seed: int, duration_s: float, per_hour: float) -> list[Fault]:
    """A Poisson number of faults over the run, kinds equally likely, severity, target, onset
    and duration uniform: some sit near the noise floor on purpose."""
    rng = np.random.default_rng([seed, FAULT_STREAM])
    where, kinds = targets(fleet), tuple(KINDS)
    out = []
    for _ in range(int(rng.poisson(per_hour * duration_s / 3600.0))):
        kind = kinds[rng.integers(len(kinds))]
        spec = KINDS[kind]
        target_kind = spec.target_kinds[rng.integers(len(spec.target_kinds))]
        ids = where[target_kind]
        target = ids[rng.integers(len(ids))]
        start_s, length_s = float(rng.uniform(0, duration_s)), float(rng.uniform(*spec.duration_s))
        severity, phase, down = float(rng.uniform(*spec.severity)), THREE_PHASE[rng.integers(3)], rng.random() < 0.5
        out.append(Fault(kind, target_kind, target, round(start_s, 1), round(length_s, 1), round(severity, 4),
                         phase if spec.phased else None, -1 if down and kind == "frequency_excursion" else 1))
    return out


@dataclass
class FaultInjector:
    """Applies the active faults at each tick. `meter_phase` is each meter's phase index (0–2, or
    -1 for a three-phase customer); `rated_kva` each pole transformer's rating."""

    faults: list[Fault]
    fleet: Fleet
    meter_phase: np.ndarray
    rated_kva: np.ndarray
    _held: dict[int, tuple[float, ...]] = field(default_factory=dict)
    _active: list[tuple[int, Fault]] = field(default_factory=list)

    def __post_init__(self) -> None:
        f = self.fleet
        self._pole_of = {t: i for i, t in enumerate(targets(f)["transformer"])}
        self._pole_of |= {f.gateway_id(i): i for i in range(len(f.pole_ids))}
        self._feeder_of = {x: i for i, x in enumerate(f.feeder_ids)}
        self._meter_of = {m: i for i, m in enumerate(f.meter_ids)}

    def tick(self, t_s: float) -> None:
        self._active = [(n, f) for n, f in enumerate(self.faults) if f.active(t_s)]
        for n in [n for n in self._held if not self.faults[n].active(t_s)]:
            del self._held[n]

    def _poles(self, fault: Fault) -> np.ndarray:
        """The pole transformers a fault reaches."""
        if fault.target_kind == "feeder":
            return np.flatnonzero(self.fleet.pole_feeder == self._feeder_of[fault.target_id])
        return np.array([self._pole_of[fault.target_id]])

    def phase_voltage(self) -> np.ndarray:
        """(poles, 3) factors on each transformer's phase voltages."""
        out = np.ones((len(self.fleet.pole_ids), 3))
        for _, f in self._active:
            if f.kind in ("voltage_sag", "voltage_swell"):
                out[self._poles(f)] *= 1 - f.severity if f.kind == "voltage_sag" else 1 + f.severity
            elif f.kind == "phase_loss":
                out[self._poles(f), THREE_PHASE.index(f.phase)] *= 1 - f.severity
            elif f.kind == "phase_unbalance":
                factors = np.full(3, 1 - f.severity / 2)
                factors[THREE_PHASE.index(f.phase)] = 1 + f.severity
                out[self._poles(f)] *= factors
        return out

    def _per_meter(self, per_phase: np.ndarray) -> np.ndarray:
        """(meters, 3) → meters: a single-phase meter's own phase, the mean for a three-phase one."""
        picked = per_phase[np.arange(len(per_phase)), np.maximum(self.meter_phase, 0)]
        return np.where(self.meter_phase >= 0, picked, per_phase.mean(axis=1))

    def meter_voltage(self, v_pu: np.ndarray) -> np.ndarray:
        """A single-phase meter sees its phase at its transformer; a three-phase one the average."""
        if not self._active:
            return v_pu
        return v_pu * self._per_meter(self.phase_voltage()[self.fleet.meter_pole])

    def meter_load(self, p_kw: np.ndarray, v_pu: np.ndarray) -> np.ndarray:
        """The load the customers draw at `v_pu` (before the faults): constant impedance per phase
        below nominal, so a three-phase customer keeps two thirds on a lost phase; an overloaded
        transformer's customers draw what loads it to the fault's severity."""
        if not self._active:
            return p_kw * np.minimum(1.0, v_pu**2)
        phase_v = v_pu[:, None] * self.phase_voltage()[self.fleet.meter_pole]
        p_kw = p_kw * self._per_meter(np.minimum(1.0, phase_v**2))
        pole = self.fleet.meter_pole
        for _, f in self._active:
            if f.kind == "transformer_overload":
                hit = np.isin(pole, self._poles(f))
                apparent_kva = float(np.sum(p_kw[hit] / self.fleet.power_factor[hit]))
                scale = min(50.0, max(1.0, f.severity * float(self.rated_kva[self._poles(f)[0]])
                                      / max(apparent_kva, 1e-6)))
                p_kw = np.where(hit, p_kw * scale, p_kw)
        return p_kw

    def frequency_offset_hz(self) -> float:
        return sum(f.direction * f.severity for _, f in self._active if f.kind == "frequency_excursion")

    def reported(self, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
        """What the meters report, column by column (voltage, current, power, reactive power,
        frequency, voltage pu): a tampered meter scales current and power down, a flat-lined one
        repeats its fault's first sample."""
        if not self._active:
            return columns
        v, i_a, p_kw, q_kvar, hz, v_pu = (c.copy() for c in columns)
        for n, f in self._active:
            m = self._meter_of.get(f.target_id) if f.target_kind == "meter" else None
            if f.kind == "meter_tamper":
                for c in (i_a, p_kw, q_kvar):
                    c[m] *= 1 - f.severity
            elif f.kind == "meter_flatline":
                held = self._held.setdefault(n, tuple(float(c[m]) for c in (v, i_a, p_kw, q_kvar, hz, v_pu)))
                for c, value in zip((v, i_a, p_kw, q_kvar, hz, v_pu), held, strict=True):
                    c[m] = value
        return v, i_a, p_kw, q_kvar, hz, v_pu

    def silenced(self, pole: int) -> bool:
        """Whether the pole's gateway is cut off now."""
        return any(f.kind == "comm_loss" and self._pole_of[f.target_id] == pole for _, f in self._active)
