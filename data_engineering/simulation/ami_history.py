"""AMI readings for a past period, generated a chunk at a time with NumPy rather than tick by tick:
the simulator's fleet, load shapes and voltage model, its disturbances (sags injected where the
config says), and missing samples as seq gaps. For back-fills, analytics tests and benchmarks, where
millions of readings must exist without streaming them through the broker."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa

from data_engineering.contracts.telemetry import NETWORK_PROFILES
from data_engineering.simulation.engine import Simulator

COLUMNS = ("event_ts", "meter_id", "pole_id", "seq", "voltage_v", "current_a", "power_kw", "reactive_kvar",
           "freq_hz", "network_profile", "gateway_id", "received_ts")


def ami_history(sim: Simulator, start: datetime, duration_s: int, missing_prob: float = 0.0,
                chunk_s: int = 3600, first_seq: int = 0) -> Iterator[pa.Table]:
    """Readings every `1 / rate_hz` seconds for [start, start + duration_s), in chunks of `chunk_s`
    seconds (rows time-major). Disturbance times count from `start`. Deterministic under the
    simulator's seed."""
    cfg, f = sim.config, sim.fleet
    rng = np.random.default_rng([cfg.seed, 11])
    dt = 1.0 / cfg.rate_hz
    n_ticks = int(round(duration_s * cfg.rate_hz))
    ticks_per_chunk = max(1, int(round(chunk_s * cfg.rate_hz)))
    meter_ids = np.array(f.meter_ids, dtype=object)
    pole_of = np.array(f.pole_ids, dtype=object)[f.meter_pole]
    profile_of = np.array(NETWORK_PROFILES, dtype=object)[f.pole_profile[f.meter_pole]]
    gateway_of = np.array([f.gateway_id(p) for p in range(len(f.pole_ids))], dtype=object)[f.meter_pole]
    masks = sim._disturbance_masks()
    start_us = int(start.timestamp() * 1e6)
    for k0 in range(0, n_ticks, ticks_per_chunk):
        t_s = np.arange(k0, min(k0 + ticks_per_chunk, n_ticks)) * dt
        p_kw, v_pu = _meter_state(sim, start, t_s, masks, rng)
        n_t, n_m = p_kw.shape
        keep = (rng.random((n_t, n_m)) >= missing_prob).ravel()
        v = v_pu * cfg.nominal_voltage_v
        q = p_kw * sim._tan_phi
        i_a = np.where(v > 1.0, np.hypot(p_kw, q) * 1000.0 / np.maximum(v, 1.0), 0.0)
        ts_us = np.repeat(start_us + np.round(t_s * 1e6).astype(np.int64), n_m)
        seq = np.repeat(first_seq + np.round(t_s * cfg.rate_hz).astype(np.int64), n_m)
        freq = cfg.nominal_frequency_hz + rng.normal(0, 0.01, size=n_t * n_m)
        columns = {
            "event_ts": ts_us, "meter_id": np.tile(meter_ids, n_t), "pole_id": np.tile(pole_of, n_t), "seq": seq,
            "voltage_v": np.round(v.ravel(), 2), "current_a": np.round(i_a.ravel(), 3),
            "power_kw": np.round(p_kw.ravel(), 4), "reactive_kvar": np.round(q.ravel(), 4),
            "freq_hz": np.round(freq, 4), "network_profile": np.tile(profile_of, n_t),
            "gateway_id": np.tile(gateway_of, n_t), "received_ts": ts_us + 1_000_000,
        }
        arrays = []
        for name in COLUMNS:
            values = columns[name][keep]
            if name in ("event_ts", "received_ts"):
                arrays.append(pa.array(values, pa.int64()).cast(pa.timestamp("us", tz="UTC")))
            else:
                arrays.append(pa.array(values))
        yield pa.Table.from_arrays(arrays, names=list(COLUMNS))


def _meter_state(sim: Simulator, start: datetime, t_s: np.ndarray, masks: list, rng: np.random.Generator,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """kW and per-unit voltage, ticks × meters: the expected load per minute (load shapes change
    slowly) with 5 % sample noise; voltage from the feeder's offset and loading, as the simulator's."""
    f = sim.fleet
    minutes = np.floor(t_s / 60.0).astype(np.int64)
    expected = {}
    for m in np.unique(minutes):
        at = start + timedelta(minutes=int(m))
        expected[m] = sim.expected_kw(at, sim.temperature_c(at))
    base = np.stack([expected[m] for m in minutes])
    p_kw = np.maximum(base * (1 + rng.normal(0, 0.05, size=base.shape)), 0.0)
    n_feeders = len(f.feeder_ids)
    feeder_mean = np.bincount(sim._meter_feeder, weights=f.mean_kw, minlength=n_feeders)
    feeder_kw = np.stack([np.bincount(sim._meter_feeder, weights=row, minlength=n_feeders) for row in base])
    loading = feeder_kw / np.maximum(feeder_mean, 1e-9)
    v_pu = (1.0 + sim._feeder_offset_pu[sim._meter_feeder] - 0.02 * (loading[:, sim._meter_feeder] - 1.0)
            + rng.normal(0, 0.002, size=base.shape))
    for d, mask in masks:
        during = (t_s >= d.start_s) & (t_s < d.start_s + d.duration_s)
        hit = np.outer(during, mask)
        v_pu = np.where(hit, d.magnitude_pu + rng.normal(0, 0.003, size=base.shape), v_pu)
    v_pu = np.maximum(v_pu, 0.0)
    return p_kw * np.minimum(1.0, v_pu**2), v_pu
