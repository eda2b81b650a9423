"""Upsert the asset model (meters → poles → feeders → buses, weather stations)."""

from __future__ import annotations

from dataclasses import astuple

import psycopg

from data_engineering.contracts.assets import AssetModel

_UPSERTS = (
    ("buses", "INSERT INTO network_buses (bus_id, name, base_kv) VALUES (%s, %s, %s) ON CONFLICT (bus_id) DO UPDATE"
              " SET name = EXCLUDED.name, base_kv = EXCLUDED.base_kv"),
    ("feeders", "INSERT INTO feeders (feeder_id, bus_id) VALUES (%s, %s) ON CONFLICT (feeder_id) DO UPDATE"
                " SET bus_id = EXCLUDED.bus_id"),
    ("poles", "INSERT INTO poles (pole_id, feeder_id, gateway_id, network_profile, lat_deg, lon_deg)"
              " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (pole_id) DO UPDATE SET feeder_id = EXCLUDED.feeder_id,"
              " gateway_id = EXCLUDED.gateway_id, network_profile = EXCLUDED.network_profile,"
              " lat_deg = EXCLUDED.lat_deg, lon_deg = EXCLUDED.lon_deg"),
    ("meters", "INSERT INTO meters (meter_id, pole_id, customer_class, nominal_voltage_v, mean_load_kw)"
               " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (meter_id) DO UPDATE SET pole_id = EXCLUDED.pole_id,"
               " customer_class = EXCLUDED.customer_class, nominal_voltage_v = EXCLUDED.nominal_voltage_v,"
               " mean_load_kw = EXCLUDED.mean_load_kw"),
    ("stations", "INSERT INTO weather_stations (station_id, lat_deg, lon_deg) VALUES (%s, %s, %s)"
                 " ON CONFLICT (station_id) DO UPDATE SET lat_deg = EXCLUDED.lat_deg, lon_deg = EXCLUDED.lon_deg"),
)


def upsert_asset_model(conn: psycopg.Connection, model: AssetModel) -> None:
    """In dependency order, in the caller's transaction."""
    with conn.cursor() as cur:
        for attr, statement in _UPSERTS:
            rows = [astuple(item) for item in getattr(model, attr)]
            if rows:
                cur.executemany(statement, rows)
