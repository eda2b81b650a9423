"""The simulation clock loop: meters sample every tick, gateways batch and forward, SCADA and
weather report on their own intervals, the three-phase points (`phases_stream`) with SCADA, faults
(`faults`) act on the state, and every message goes through the delivery queue.

`Simulator.run()` yields, per tick, the messages that reach the broker by then, in arrival order.
Everything is drawn from one seeded generator in a fixed order: the same seed gives the same
messages, byte for byte. What came later (phases, the phase stream, faults) draws from generators
of its own, so the earlier streams stay as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np
import orjson

from data_engineering.contracts.telemetry import NETWORK_PROFILES
from data_engineering.simulation import loadshape
from data_engineering.simulation.assets import CUSTOMER_CLASSES, Fleet, build_fleet
from data_engineering.simulation.backhaul import IDEAL, PROFILES, Delivery, DeliveryQueue, LinkProfile, delays_s
from data_engineering.simulation.faults import Fault, FaultInjector, random_faults
from data_engineering.simulation.grid import ReferenceGrid, load_reference_grid
from data_engineering.simulation.phases import meter_phases
from data_engineering.simulation.phases_stream import PhaseStream
from data_engineering.twin.cim import THREE_PHASE, rated_kva


@dataclass(frozen=True)
class Disturbance:
    """A voltage event on a pole, a feeder, or (neither given) every meter."""

    kind: Literal["sag", "swell"]
    start_s: float
    duration_s: float
    magnitude_pu: float
    feeder_id: str | None = None
    pole_id: str | None = None


@dataclass(frozen=True)
class SimulationConfig:
    start: datetime
    duration_s: float
    n_meters: int = 200
    rate_hz: float = 1.0
    seed: int = 42
    case: str = "pglib_opf_case30_ieee"
    peak_load_fraction: float = 0.85  # the fleet's daily peak loads the grid to this share of the case's load
    nominal_voltage_v: float = 240.0
    nominal_frequency_hz: float = 60.0
    meters_per_pole: int = 4
    missing_prob: float = 0.001
    gateway_batching: bool = True
    ideal_backhaul: bool = False
    random_sags_per_hour: float = 0.5  # per feeder; swells at a quarter of that rate
    disturbances: tuple[Disturbance, ...] = ()
    scada_interval_s: float = 5.0
    weather_interval_s: float = 60.0
    topic_prefix: str = ""
    first_seq: int = 0  # every meter's first seq: where the previous run's stored readings left off
    # synthetic: the smooth daily shapes of `loadshape`; simbench: each meter follows a real-derived
    # SimBench profile of its customer class, with a seasonal climate to match (`profiles`)
    profiles: Literal["synthetic", "simbench"] = "synthetic"
    phase_measurements: bool = True  # the `scada.phases` stream, every scada_interval_s
    faults: tuple[Fault, ...] = ()
    random_faults_per_hour: float = 0.0  # over the whole fleet, on top of `faults`


@dataclass
class SimulationReport:
    readings_sampled: int = 0
    readings_missing: int = 0  # the meter did not record (a seq gap)
    readings_dropped: int = 0  # lost on the backhaul
    readings_delivered: int = 0  # unique readings that reach the broker
    messages: int = 0
    ami_messages: int = 0  # gateway batches (or single readings) sent, resends included
    duplicate_messages: int = 0
    scada_records: int = 0
    weather_records: int = 0
    phase_records: int = 0
    disturbances: list[Disturbance] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)


def _ts(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Simulator:
    def __init__(self, config: SimulationConfig, grid: ReferenceGrid | None = None) -> None:
        self.config = config
        self.rng = np.random.default_rng(config.seed)
        self.grid = grid or load_reference_grid(config.case)
        self.fleet: Fleet = build_fleet(self.grid, config.n_meters, self.rng, config.meters_per_pole)
        self.report = SimulationReport()
        self.report.disturbances = list(config.disturbances) + self._random_disturbances()
        f = self.fleet
        self._meter_bus = f.meter_bus()
        self._meter_feeder = f.pole_feeder[f.meter_pole]
        self._meter_station = f.feeder_station[self._meter_feeder]
        self._feeder_offset_pu = self.rng.normal(0.0, 0.01, size=len(f.feeder_ids))
        self._station_offset_c = self.rng.normal(0.0, 1.5, size=len(f.station_ids))
        self._tan_phi = np.tan(np.arccos(f.power_factor))
        self._profiles = None
        if config.profiles == "simbench":
            from data_engineering.simulation.profiles import meter_profiles

            # its own generator: the synthetic mode's draws (and so its output) stay as they were
            self._profiles = meter_profiles(list(CUSTOMER_CLASSES), f.meter_class,
                                            np.random.default_rng([config.seed, 11]))
        self._load_scale = config.peak_load_fraction / self._fleet_peak_ratio()
        self._links = [IDEAL if config.ideal_backhaul else PROFILES[NETWORK_PROFILES[p]] for p in f.pole_profile]
        self._topics = {name: f"{config.topic_prefix}{name}" for name in
                        ("ami.readings", "scada.measurements", "weather.observations", "scada.phases")}
        self.report.faults = list(config.faults) + (random_faults(
            f, config.seed, config.duration_s, config.random_faults_per_hour) if config.random_faults_per_hour else [])
        codes = meter_phases(f, config.seed)
        meter_phase = np.array([THREE_PHASE.find(codes[m]) if len(codes[m]) == 1 else -1 for m in f.meter_ids])
        pole_kw = np.bincount(f.meter_pole, weights=np.round(f.mean_kw, 4), minlength=len(f.pole_ids))
        self.transformer_kva = np.array([rated_kva(float(kw)) for kw in pole_kw])  # as the twin rates them
        self._faults = FaultInjector(self.report.faults, f, meter_phase, self.transformer_kva)
        self._phases = PhaseStream(f, meter_phase, self.transformer_kva, config.nominal_voltage_v, config.seed)

    def _fleet_peak_ratio(self) -> float:
        """The fleet's highest 5-minute demand over a typical day (the profiles' year), relative to
        its mean demand."""
        f = self.fleet
        if self._profiles is not None:
            return self._profiles.yearly_peak_ratio(f.mean_kw)
        hours = np.arange(0, 24, 5 / 60)
        demand = [np.sum(f.mean_kw * np.array([s(h) for s in loadshape.SHAPES])[f.meter_class]
                         * loadshape.cooling_factor(loadshape.temperature_c(h))) for h in hours]
        return float(max(demand) / max(f.mean_kw.sum(), 1e-9))

    # -- setup ------------------------------------------------------------------------------------
    def _random_disturbances(self) -> list[Disturbance]:
        cfg, out = self.config, []
        hours = cfg.duration_s / 3600.0
        for feeder in self.fleet.feeder_ids:
            for kind, rate, depth, length in (("sag", 1.0, (0.5, 0.88), (1, 20)), ("swell", 0.25, (1.1, 1.2), (1, 10))):
                for _ in range(self.rng.poisson(cfg.random_sags_per_hour * rate * hours)):
                    out.append(Disturbance(kind, float(self.rng.uniform(0, cfg.duration_s)),
                                           float(self.rng.integers(length[0], length[1] + 1)),
                                           float(self.rng.uniform(*depth)), feeder_id=feeder))
        return out

    def _disturbance_masks(self) -> list[tuple[Disturbance, np.ndarray]]:
        f = self.fleet
        pole_index = {p: i for i, p in enumerate(f.pole_ids)}
        feeder_index = {x: i for i, x in enumerate(f.feeder_ids)}
        masks = []
        for d in self.report.disturbances:
            if d.pole_id is not None:
                mask = f.meter_pole == pole_index[d.pole_id]
            elif d.feeder_id is not None:
                mask = self._meter_feeder == feeder_index[d.feeder_id]
            else:
                mask = np.ones(f.n_meters, dtype=bool)
            masks.append((d, mask))
        return masks

    # -- the loop ----------------------------------------------------------------------------------
    def run(self) -> Iterator[tuple[float, list[Delivery]]]:
        cfg, f, rng = self.config, self.fleet, self.rng
        dt = 1.0 / cfg.rate_hz
        n_ticks = int(round(cfg.duration_s * cfg.rate_hz))
        queue = DeliveryQueue()
        masks = self._disturbance_masks()
        pending: dict[int, list[dict]] = {}
        next_flush = rng.uniform(0, 1, size=len(f.pole_ids)) * np.array([link.batch_interval_s for link in self._links])
        seq = np.full(f.n_meters, cfg.first_seq, dtype=np.int64)
        freq = cfg.nominal_frequency_hz
        scada_every = max(1, int(round(cfg.scada_interval_s * cfg.rate_hz)))
        weather_every = max(1, int(round(cfg.weather_interval_s * cfg.rate_hz)))

        for k in range(n_ticks):
            t_s = k * dt
            now = cfg.start + timedelta(seconds=t_s)
            stamp = _ts(now)
            temp = self.temperature_c(now)
            freq += 0.05 * (cfg.nominal_frequency_hz - freq) * dt + rng.normal(0, 0.004) * np.sqrt(dt)
            self._faults.tick(t_s)
            hz = freq + self._faults.frequency_offset_hz()

            p_kw, v_pu, base_pu = self._meter_state(now, temp, t_s, masks)
            q_kvar = p_kw * self._tan_phi
            v = v_pu * cfg.nominal_voltage_v
            i_a = np.where(v > 1.0, np.hypot(p_kw, q_kvar) * 1000.0 / np.maximum(v, 1.0), 0.0)
            meter_freq = hz + rng.normal(0, 0.001, size=f.n_meters)
            missing = rng.random(f.n_meters) < cfg.missing_prob
            self.report.readings_sampled += f.n_meters
            self.report.readings_missing += int(missing.sum())

            self._collect(stamp, seq, missing, *self._faults.reported(v, i_a, p_kw, q_kvar, meter_freq, v_pu),
                          pending, queue, t_s)
            seq += 1
            if cfg.gateway_batching:
                self._flush_gateways(t_s, now, pending, next_flush, queue)
            if k % scada_every == 0:
                self._scada(stamp, t_s, p_kw, hz, queue)
                if cfg.phase_measurements:
                    self._phase_stream(stamp, t_s, p_kw, q_kvar, base_pu, hz, queue)
            if k % weather_every == 0:
                self._weather(stamp, t_s, now, temp, queue)
            yield t_s, queue.pop_until(t_s)

        if cfg.gateway_batching:
            self._faults.tick(n_ticks * dt)
            self._flush_gateways(float("inf"), cfg.start + timedelta(seconds=n_ticks * dt), pending, next_flush, queue)
        yield n_ticks * dt, queue.drain()

    def temperature_c(self, at: datetime) -> np.ndarray:
        """Air temperature at each weather station: the synthetic warm day, or the profiles'
        season (a central-European daily mean with a 4 °C daily swing)."""
        hour = at.hour + at.minute / 60 + at.second / 3600
        if self._profiles is None:
            return loadshape.temperature_c(hour) + self._station_offset_c
        from data_engineering.simulation.profiles import seasonal_temperature_c

        return loadshape.temperature_c(hour, seasonal_temperature_c(at), 4.0) + self._station_offset_c

    def irradiance_wm2(self, at: datetime) -> float:
        """Clear-sky irradiance (synthetic), or SimBench's PV feed-in profile scaled to 1000 W/m²."""
        if self._profiles is None:
            return float(loadshape.clear_sky_ghi(at.hour + at.minute / 60 + at.second / 3600))
        return self._profiles.irradiance_wm2(at)

    def expected_kw(self, at: datetime, temp: np.ndarray) -> np.ndarray:
        """Each meter's expected demand: its class's daily shape, air conditioning above the comfort
        temperature, and the day's level (weather and calendar); or, with SimBench profiles, its
        profile's value (weather, weekdays and season are in the measured shapes)."""
        f = self.fleet
        if self._profiles is not None:
            return f.mean_kw * self._profiles.at(at)
        hour, day = at.hour + at.minute / 60 + at.second / 3600, at.date()
        shape = np.array([s(hour) for s in loadshape.SHAPES])[f.meter_class]
        cooling = loadshape.cooling_factor(temp)[self._meter_station]
        return f.mean_kw * shape * cooling * loadshape.day_factor(day, self.config.seed)[f.meter_class]

    def bus_load_mw(self, p_kw: np.ndarray) -> np.ndarray:
        """Bus loads follow the meters on them (the fleet average where a bus has none), scaled so
        the fleet's daily peak loads the grid to `peak_load_fraction` of the case's load."""
        g, f = self.grid, self.fleet
        n = len(g.bus_ids)
        metered = np.bincount(self._meter_bus, weights=p_kw, minlength=n)
        expected = np.bincount(self._meter_bus, weights=f.mean_kw, minlength=n)
        overall = p_kw.sum() / max(f.mean_kw.sum(), 1e-9)
        ratio = np.where(expected > 0, metered / np.maximum(expected, 1e-9), overall)
        return g.load_mw * ratio * self._load_scale

    def _meter_state(self, at: datetime, temp: np.ndarray, t_s: float,
                     masks: list[tuple[Disturbance, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each meter's load and voltage with the faults, and its voltage before them."""
        f, rng = self.fleet, self.rng
        p_kw = np.maximum(self.expected_kw(at, temp) * (1 + rng.normal(0, 0.05, size=f.n_meters)), 0.0)
        feeder_kw = np.bincount(self._meter_feeder, weights=p_kw, minlength=len(f.feeder_ids))
        feeder_mean = np.bincount(self._meter_feeder, weights=f.mean_kw, minlength=len(f.feeder_ids))
        loading = feeder_kw / np.maximum(feeder_mean, 1e-9)
        v_pu = 1.0 + self._feeder_offset_pu[self._meter_feeder] - 0.02 * (loading[self._meter_feeder] - 1.0)
        v_pu = v_pu + rng.normal(0, 0.002, size=f.n_meters)
        for d, mask in masks:
            if d.start_s <= t_s < d.start_s + d.duration_s:
                v_pu = np.where(mask, d.magnitude_pu + rng.normal(0, 0.003, size=f.n_meters), v_pu)
        base_pu = np.maximum(v_pu, 0.0)
        p_kw = self._faults.meter_load(p_kw, base_pu)  # constant-impedance behaviour in a sag
        return p_kw, self._faults.meter_voltage(base_pu), base_pu

    def _collect(self, stamp: str, seq: np.ndarray, missing: np.ndarray, v: np.ndarray, i_a: np.ndarray,
                 p_kw: np.ndarray, q_kvar: np.ndarray, freq: np.ndarray, v_pu: np.ndarray,
                 pending: dict[int, list[dict]], queue: DeliveryQueue, t_s: float) -> None:
        f, cfg = self.fleet, self.config
        idx = np.flatnonzero(~missing)
        cols = (np.round(v[idx], 2).tolist(), np.round(i_a[idx], 3).tolist(), np.round(p_kw[idx], 4).tolist(),
                np.round(q_kvar[idx], 4).tolist(), np.round(freq[idx], 4).tolist(), seq[idx].tolist(),
                v_pu[idx].tolist())
        for i, volt, amp, kw, kvar, hz, s, pu in zip(idx.tolist(), *cols, strict=True):
            reading = {"event_ts": stamp, "meter_id": f.meter_ids[i], "seq": s, "voltage_v": volt,
                       "current_a": amp, "power_kw": kw, "reactive_kvar": kvar, "freq_hz": hz}
            if pu < 0.9:
                reading["quality_flags"] = ["voltage_sag"]
            elif pu > 1.1:
                reading["quality_flags"] = ["voltage_swell"]
            pole = int(f.meter_pole[i])
            if cfg.gateway_batching:
                pending.setdefault(pole, []).append(reading)
            else:
                reading |= {"pole_id": f.pole_ids[pole], "gateway_id": f.gateway_id(pole),
                            "network_profile": NETWORK_PROFILES[f.pole_profile[pole]]}
                self._send(queue, self._links[pole], t_s, self._topics["ami.readings"],
                           f.pole_ids[pole].encode(), orjson.dumps(reading), 1, self._faults.silenced(pole))

    def _flush_gateways(self, t_s: float, now: datetime, pending: dict[int, list[dict]],
                        next_flush: np.ndarray, queue: DeliveryQueue) -> None:
        f = self.fleet
        for pole in sorted(pending):
            readings = pending[pole]
            link = self._links[pole]
            if not readings or t_s < next_flush[pole]:
                continue
            next_flush[pole] += link.batch_interval_s
            if link.reorder_prob and self.rng.random() < link.reorder_prob:
                readings = [readings[j] for j in self.rng.permutation(len(readings))]
            envelope = {"gateway_id": f.gateway_id(pole), "pole_id": f.pole_ids[pole],
                        "network_profile": NETWORK_PROFILES[f.pole_profile[pole]],
                        "sent_ts": _ts(min(now, self.config.start + timedelta(seconds=self.config.duration_s))),
                        "readings": readings}
            sent_s = min(t_s, self.config.duration_s)
            self._send(queue, link, sent_s, self._topics["ami.readings"], f.pole_ids[pole].encode(),
                       orjson.dumps(envelope), len(readings), self._faults.silenced(pole))
            pending[pole] = []

    def _send(self, queue: DeliveryQueue, link: LinkProfile, sent_s: float, topic: str, key: bytes,
              value: bytes, n_readings: int, silenced: bool = False) -> None:
        """A silenced gateway (communication loss) sends nothing, but its link's draws are made
        all the same, so the other gateways' deliveries stay as they were."""
        if link.drop_prob and self.rng.random() < link.drop_prob:
            self.report.readings_dropped += n_readings
            return
        arrival = sent_s + float(delays_s(link, self.rng, 1)[0])
        duplicate = bool(link.duplicate_prob) and self.rng.random() < link.duplicate_prob
        if silenced:
            self.report.readings_dropped += n_readings
            return
        queue.push(arrival, topic, key, value)
        self.report.readings_delivered += n_readings
        self.report.messages += 1
        self.report.ami_messages += 1
        if duplicate:
            queue.push(arrival + link.retry_s, topic, key, value)
            self.report.messages += 1
            self.report.ami_messages += 1
            self.report.duplicate_messages += 1

    def _scada(self, stamp: str, t_s: float, p_kw: np.ndarray, freq: float, queue: DeliveryQueue) -> None:
        """Bus loads follow the meters on them (the fleet average where a bus has none); generators
        cover the total; angles and flows from the DC network."""
        g, rng = self.grid, self.rng
        n = len(g.bus_ids)
        load = self.bus_load_mw(p_kw)
        gen = g.dispatch(np.array([load.sum()]))[0]
        injection = -load.copy()
        np.add.at(injection, g.gen_bus, gen)
        angle, flow = g.dc_flow(injection[None, :])
        vm = 1.0 + rng.normal(0, 0.004, size=n)
        hz = round(float(freq), 4)
        records = []
        for b in range(n):
            bus = int(g.bus_ids[b])
            records.append({"ts": stamp, "element_type": "bus", "element_id": str(bus), "bus_id": bus,
                            "vm_pu": round(float(vm[b]), 4), "va_deg": round(float(angle[0, b]), 4),
                            "freq_hz": hz, "quality_code": "good"})
        records += load_and_unit_records(g, stamp, load, gen, hz)
        for j, branch_id in enumerate(g.branch_ids()):
            records.append({"ts": stamp, "element_type": "branch", "element_id": branch_id,
                            "bus_id": int(g.bus_ids[g.branch_from[j]]), "p_mw": round(float(flow[0, j]), 3),
                            "quality_code": "good"})
        self.report.scada_records += len(records)
        queue.push(t_s + 0.05, self._topics["scada.measurements"], b"ems", orjson.dumps({"measurements": records}))
        self.report.messages += 1

    def _phase_stream(self, stamp: str, t_s: float, p_kw: np.ndarray, q_kvar: np.ndarray, base_pu: np.ndarray,
                      hz: float, queue: DeliveryQueue) -> None:
        """One message per feeder: its head and the transformers whose gateways are not silenced."""
        f = self.fleet
        measured = self._phases.measure(p_kw, q_kvar, base_pu, self._faults.phase_voltage())
        records = self._phases.records(stamp, hz, measured)
        n_poles = len(f.pole_ids)
        for x, feeder in enumerate(f.feeder_ids):
            batch = [records[n_poles + x]] + [records[p] for p in np.flatnonzero(f.pole_feeder == x)
                                              if not self._faults.silenced(int(p))]
            queue.push(t_s + 0.1, self._topics["scada.phases"], feeder.encode(), orjson.dumps({"measurements": batch}))
            self.report.phase_records += len(batch)
            self.report.messages += 1

    def _weather(self, stamp: str, t_s: float, at: datetime, temp: np.ndarray, queue: DeliveryQueue) -> None:
        rng = self.rng
        ghi = self.irradiance_wm2(at)
        for s, station in enumerate(self.fleet.station_ids):
            cloud = float(np.clip(rng.normal(30, 20), 0, 100))
            record = {"ts": stamp, "station_id": station,
                      "temperature_c": round(float(temp[s] + rng.normal(0, 0.2)), 2),
                      "relative_humidity_pct": round(float(np.clip(70 - 1.5 * (temp[s] - 20) + rng.normal(0, 3),
                                                                   5, 100)), 1),
                      "wind_speed_ms": round(float(rng.weibull(2.0) * 5.0), 2),
                      "ghi_wm2": round(ghi * (1 - 0.75 * cloud / 100), 1), "cloud_cover_pct": round(cloud, 1)}
            queue.push(t_s + 0.2, self._topics["weather.observations"], station.encode(), orjson.dumps(record))
            self.report.weather_records += 1
            self.report.messages += 1


def load_and_unit_records(g: ReferenceGrid, stamp: str, load: np.ndarray, gen: np.ndarray,
                          hz: float | None) -> list[dict]:
    """SCADA `load` records for loaded buses (reactive power at the case's power factor) and
    `generator` records, element ids as the network model names them."""
    records = []
    for b in np.flatnonzero(g.load_mw > 0):
        bus = int(g.bus_ids[b])
        records.append({"ts": stamp, "element_type": "load", "element_id": f"L{bus}", "bus_id": bus,
                        "p_mw": round(float(load[b]), 3),
                        "q_mvar": round(float(load[b] * g.load_mvar[b] / g.load_mw[b]), 3), "quality_code": "good"})
    for j, p in enumerate(gen):
        record = {"ts": stamp, "element_type": "generator", "element_id": g.gen_names[j],
                  "bus_id": int(g.bus_ids[g.gen_bus[j]]), "p_mw": round(float(p), 3), "quality_code": "good"}
        if hz is not None:
            record["freq_hz"] = hz
        records.append(record)
    return records


def utc(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


__all__ = ["Disturbance", "Fault", "SimulationConfig", "SimulationReport", "Simulator", "utc"]
