"""The three-phase measurement stream (`scada.phases`): per-phase V, I, P, Q and frequency at each
pole's transformer and at each feeder head, every SCADA interval.

The model, and the consistency it guarantees:
- a transformer's phase P (Q) is the physical load of the meters below it on that phase (a
  three-phase customer split evenly) plus its copper (leakage) losses, `XF_R` (`XF_X`) of the
  phase rating at rated load, growing with the square of the current: S²/S_rated per phase;
- a feeder head's phase P (Q) is the sum of its transformers' plus the feeder's losses, `FEEDER_R`
  (`FEEDER_X`) of the feeder's total rating at that loading, likewise ∝ I²;
- so Σ P at a transformer = Σ P of its meters × (1 + ℓ) with 0 ≤ ℓ ≤ 5 % up to 150 % loading,
  and a head's Σ P = Σ P of its transformers × (1 + ℓ) with 0 ≤ ℓ ≤ 3 %, each within the
  measurement noise: 0.5 % of each value + 5 W (tests/simulation/test_phases_stream.py checks
  both within 2 % + 0.05 kW beyond the loss band);
- a transformer's phase voltage is its meters' mean (before faults) times the faults' factors;
  a head's the median of its transformers' plus `FEEDER_REGULATION_PU`;
- currents follow from S / V, so |P| ≤ V·I up to the noise.
What meters report (a tampered or flat-lined register) does not change what the transformer
measures. Noise comes from a generator of its own, so the other streams stay byte for byte as
they were.
"""

from __future__ import annotations

import numpy as np

from data_engineering.simulation.assets import Fleet
from data_engineering.twin.cim import transformer_id

PHASE_STREAM_NOISE = 0x50485354  # "PHST": this stream's generator key next to the simulation seed
XF_R, XF_X = 0.015, 0.03
FEEDER_R, FEEDER_X = 0.01, 0.02
FEEDER_REGULATION_PU = 0.01
V_NOISE_PU, PQ_NOISE, PQ_NOISE_KW, I_NOISE = 0.001, 0.005, 0.005, 0.002
SAG_PU, SWELL_PU, LOST_PU = 0.9, 1.1, 0.1


def phase_shares(meter_phase: np.ndarray, phase_voltage: np.ndarray) -> np.ndarray:
    """(meters, 3): each meter's share of its load on phases A, B, C. A three-phase customer's
    load splits as the square of its phase voltages (constant impedance): evenly when balanced,
    nothing on a lost phase. `phase_voltage`: (meters, 3) factors at each meter's transformer."""
    squared = phase_voltage**2
    share = squared / np.maximum(squared.sum(axis=1, keepdims=True), 1e-12)
    single = meter_phase >= 0
    share[single] = np.eye(3)[meter_phase[single]]
    return share


def _by(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Column-wise sums of `values` (rows, 3) per group."""
    return np.stack([np.bincount(groups, weights=values[:, k], minlength=n) for k in range(3)], axis=1)


def _losses(p: np.ndarray, q: np.ndarray, rated_kva: np.ndarray, r: float, x: float) -> tuple[np.ndarray, ...]:
    """P and Q with losses ∝ S² added, `r` and `x` of the phase rating at rated load."""
    loading = (p**2 + q**2) / np.maximum(rated_kva, 1e-9)[:, None]
    return p + r * loading, q + x * loading


class PhaseStream:
    def __init__(self, fleet: Fleet, meter_phase: np.ndarray, rated_kva: np.ndarray, nominal_voltage_v: float,
                 seed: int) -> None:
        self.fleet, self.rated_kva, self.nominal_v = fleet, rated_kva, nominal_voltage_v
        self.meter_phase = meter_phase
        self.rng = np.random.default_rng([seed, PHASE_STREAM_NOISE])
        self._feeder_rated = np.bincount(fleet.pole_feeder, weights=rated_kva, minlength=len(fleet.feeder_ids))
        self._meters_on = np.maximum(np.bincount(fleet.meter_pole, minlength=len(fleet.pole_ids)), 1)

    def points(self) -> tuple[list[str], list[str], list[str]]:
        """Ids, kinds and feeders of the measurement points: transformers first, then heads."""
        f = self.fleet
        return ([transformer_id(p) for p in f.pole_ids] + list(f.feeder_ids),
                ["transformer"] * len(f.pole_ids) + ["feeder_head"] * len(f.feeder_ids),
                [f.feeder_ids[x] for x in f.pole_feeder] + list(f.feeder_ids))

    def measure(self, p_kw: np.ndarray, q_kvar: np.ndarray, v_pu: np.ndarray,
                phase_voltage: np.ndarray) -> dict[str, np.ndarray]:
        """Every point's (points, 3) `v`, `i`, `p`, `q` as measured, and `loading` (S / rating,
        transformers; NaN at heads). `p_kw`, `q_kvar`: the meters' physical load; `v_pu` their
        voltage before faults; `phase_voltage` the faults' factors per transformer phase."""
        f, n_poles, n_feeders = self.fleet, len(self.fleet.pole_ids), len(self.fleet.feeder_ids)
        share = phase_shares(self.meter_phase, phase_voltage[f.meter_pole])
        xf_p, xf_q = _losses(_by(f.meter_pole, p_kw[:, None] * share, n_poles),
                             _by(f.meter_pole, q_kvar[:, None] * share, n_poles), self.rated_kva / 3, XF_R, XF_X)
        xf_v = (np.bincount(f.meter_pole, weights=v_pu, minlength=n_poles) / self._meters_on)[:, None] * phase_voltage
        head_p, head_q = _losses(_by(f.pole_feeder, xf_p, n_feeders), _by(f.pole_feeder, xf_q, n_feeders),
                                 self._feeder_rated / 3, FEEDER_R, FEEDER_X)
        head_v = np.stack([np.median(xf_v[f.pole_feeder == x], axis=0) if np.any(f.pole_feeder == x) else np.ones(3)
                           for x in range(n_feeders)]) + FEEDER_REGULATION_PU
        p, q, v = np.vstack([xf_p, head_p]), np.vstack([xf_q, head_q]), np.vstack([xf_v, head_v]) * self.nominal_v
        rng = self.rng
        v = np.maximum(v + rng.normal(0, V_NOISE_PU * self.nominal_v, size=v.shape), 0.0)
        p = p * (1 + rng.normal(0, PQ_NOISE, size=p.shape)) + rng.normal(0, PQ_NOISE_KW, size=p.shape)
        q = q * (1 + rng.normal(0, PQ_NOISE, size=q.shape)) + rng.normal(0, PQ_NOISE_KW, size=q.shape)
        live = v > LOST_PU * self.nominal_v
        i = np.where(live, np.hypot(p, q) * 1000.0 / np.maximum(v, 1.0), 0.0) * (1 + rng.normal(0, I_NOISE, v.shape))
        loading = np.concatenate([np.hypot(xf_p, xf_q).sum(axis=1) / self.rated_kva, np.full(n_feeders, np.nan)])
        return {"v": v, "i": np.abs(i), "p": p, "q": q, "loading": loading}

    def flags(self, v: np.ndarray, loading: np.ndarray) -> list[list[str]]:
        """What a monitor flags per point: a phase lost, sagged or swollen; a transformer over its rating."""
        pu = v / self.nominal_v
        tests = (("phase_loss", (pu < LOST_PU).any(axis=1)),
                 ("voltage_sag", ((pu >= LOST_PU) & (pu < SAG_PU)).any(axis=1)),
                 ("voltage_swell", (pu > SWELL_PU).any(axis=1)), ("overload", np.nan_to_num(loading) > 1.0))
        return [[name for name, hit in tests if hit[k]] for k in range(len(pu))]

    def records(self, stamp: str, hz: float, measured: dict[str, np.ndarray]) -> list[dict]:
        """One record per point, in `points()` order."""
        ids, kinds, feeders = self.points()
        freq = np.round(hz + self.rng.normal(0, 0.001, size=len(ids)), 4).tolist()
        cols = {f"{name}_{ph}_{unit}": np.round(measured[name][:, k], digits).tolist()
                for name, unit, digits in (("v", "v", 2), ("i", "a", 3), ("p", "kw", 4), ("q", "kvar", 4))
                for k, ph in enumerate("abc")}
        out = []
        for k, flags in enumerate(self.flags(measured["v"], measured["loading"])):
            record = {"ts": stamp, "point_id": ids[k], "point_kind": kinds[k], "feeder_id": feeders[k],
                      **{c: values[k] for c, values in cols.items()}, "freq_hz": freq[k], "is_simulation": True}
            if flags:
                record["quality_flags"] = flags
            out.append(record)
        return out
