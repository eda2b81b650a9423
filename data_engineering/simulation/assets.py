"""The simulated distribution fleet: feeders on the reference grid's load buses, poles with one
gateway each, meters on poles. Deterministic under a seed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data_engineering.contracts.assets import AssetModel
from data_engineering.contracts.telemetry import NETWORK_PROFILES
from data_engineering.simulation.grid import ReferenceGrid

CUSTOMER_CLASSES = ("residential", "commercial", "industrial")


@dataclass(frozen=True)
class Fleet:
    """Meter-indexed arrays plus the pole and feeder tables (all ids as strings)."""

    meter_ids: list[str]
    meter_pole: np.ndarray  # pole index per meter
    meter_class: np.ndarray  # index into CUSTOMER_CLASSES
    mean_kw: np.ndarray
    power_factor: np.ndarray
    pole_ids: list[str]
    pole_feeder: np.ndarray
    pole_profile: np.ndarray  # index into NETWORK_PROFILES
    pole_lat_lon: np.ndarray
    feeder_ids: list[str]
    feeder_bus: np.ndarray  # bus position in the grid
    station_ids: list[str]
    feeder_station: np.ndarray

    @property
    def n_meters(self) -> int:
        return len(self.meter_ids)

    def meter_bus(self) -> np.ndarray:
        return self.feeder_bus[self.pole_feeder[self.meter_pole]]

    def gateway_id(self, pole: int) -> str:
        return f"gw-{self.pole_ids[pole]}"


def build_fleet(grid: ReferenceGrid, n_meters: int, rng: np.random.Generator, meters_per_pole: int = 4,
                profile_mix: tuple[float, ...] = (0.4, 0.3, 0.25, 0.05), n_stations: int = 3) -> Fleet:
    load_buses = grid.load_buses
    n_poles = max(1, -(-n_meters // meters_per_pole))
    n_feeders = max(1, min(len(load_buses) * 2, -(-n_poles // 10)))
    feeder_bus = load_buses[np.arange(n_feeders) % len(load_buses)]
    pole_feeder = np.arange(n_poles) % n_feeders
    meter_pole = np.arange(n_meters) // meters_per_pole
    meter_class = rng.choice(len(CUSTOMER_CLASSES), size=n_meters, p=[0.85, 0.13, 0.02])
    class_kw = np.array([1.2, 8.0, 40.0])
    mean_kw = class_kw[meter_class] * rng.lognormal(0.0, 0.35, size=n_meters)
    mix = np.asarray(profile_mix) / np.sum(profile_mix)
    base = np.array([40.0, -100.0])
    return Fleet(
        meter_ids=[f"m-{i:06d}" for i in range(n_meters)],
        meter_pole=meter_pole,
        meter_class=meter_class,
        mean_kw=mean_kw,
        power_factor=rng.uniform(0.88, 0.99, size=n_meters),
        pole_ids=[f"p-{i:05d}" for i in range(n_poles)],
        pole_feeder=pole_feeder,
        pole_profile=rng.choice(len(NETWORK_PROFILES), size=n_poles, p=mix),
        pole_lat_lon=base + rng.normal(0, 0.2, size=(n_poles, 2)),
        feeder_ids=[f"f-{i:03d}" for i in range(n_feeders)],
        feeder_bus=feeder_bus,
        station_ids=[f"ws-{i:02d}" for i in range(n_stations)],
        feeder_station=np.arange(n_feeders) % n_stations,
    )


def asset_model(fleet: Fleet, grid: ReferenceGrid, nominal_voltage_v: float) -> AssetModel:
    """The fleet as the records the asset tables store."""
    from data_engineering.contracts import assets as a

    lat_lon = fleet.pole_lat_lon
    return a.AssetModel(
        buses=[a.Bus(int(b), f"Bus {b}", float(kv)) for b, kv in zip(grid.bus_ids, grid.base_kv, strict=True)],
        feeders=[a.Feeder(fid, int(grid.bus_ids[fleet.feeder_bus[i]])) for i, fid in enumerate(fleet.feeder_ids)],
        poles=[a.Pole(pid, fleet.feeder_ids[fleet.pole_feeder[i]], fleet.gateway_id(i),
                      NETWORK_PROFILES[fleet.pole_profile[i]], float(lat_lon[i, 0]), float(lat_lon[i, 1]))
               for i, pid in enumerate(fleet.pole_ids)],
        meters=[a.Meter(mid, fleet.pole_ids[fleet.meter_pole[i]], CUSTOMER_CLASSES[fleet.meter_class[i]],
                        nominal_voltage_v, round(float(fleet.mean_kw[i]), 4)) for i, mid in enumerate(fleet.meter_ids)],
        stations=[a.Station(sid, 40.0 + 0.3 * i, -100.0) for i, sid in enumerate(fleet.station_ids)],
    )
