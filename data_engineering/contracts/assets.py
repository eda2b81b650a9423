"""The asset model as it crosses from the simulator (or a utility's GIS export) to storage."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bus:
    bus_id: int
    name: str
    base_kv: float


@dataclass(frozen=True)
class Feeder:
    feeder_id: str
    bus_id: int


@dataclass(frozen=True)
class Pole:
    pole_id: str
    feeder_id: str
    gateway_id: str
    network_profile: str
    lat_deg: float
    lon_deg: float


@dataclass(frozen=True)
class Meter:
    meter_id: str
    pole_id: str
    customer_class: str
    nominal_voltage_v: float
    mean_load_kw: float


@dataclass(frozen=True)
class Station:
    station_id: str
    lat_deg: float
    lon_deg: float


@dataclass(frozen=True)
class AssetModel:
    buses: list[Bus]
    feeders: list[Feeder]
    poles: list[Pole]
    meters: list[Meter]
    stations: list[Station]
