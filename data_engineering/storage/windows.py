"""Read a telemetry window by event time for the dispatch pipeline (parameterised queries into
DataFrames)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import psycopg


def _frame(conn: psycopg.Connection, query: str, params: tuple, floats: tuple[str, ...] = (),
           times: tuple[str, ...] = ()) -> pd.DataFrame:
    """The rows with typed columns even when there are none: an empty window's frame must still
    carry datetimes and floats, or every step after it fails on dtypes instead of on "no data"."""
    with conn.cursor() as cur:
        cur.execute(query, params)
        columns = [d.name for d in cur.description]
        frame = pd.DataFrame(cur.fetchall(), columns=columns)
    for column in floats:
        frame[column] = frame[column].astype(float)
    for column in times:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def read_ami(conn: psycopg.Connection, start: datetime, end: datetime) -> pd.DataFrame:
    """Readings with event time in [start, end), with their meter's bus and nominal voltage."""
    return _frame(conn, "SELECT r.event_ts, r.meter_id, r.pole_id, r.seq, r.voltage_v, r.current_a, r.power_kw,"
                        " r.reactive_kvar, r.freq_hz, r.received_ts, t.bus_id, t.nominal_voltage_v"
                        " FROM ami_readings r LEFT JOIN meter_topology t USING (meter_id)"
                        " WHERE r.event_ts >= %s AND r.event_ts < %s", (start, end),
                  ("voltage_v", "current_a", "power_kw", "reactive_kvar", "freq_hz", "nominal_voltage_v"),
                  ("event_ts", "received_ts"))


def holds_ami(conn: psycopg.Connection, start: datetime, end: datetime) -> bool:
    """Whether any AMI reading has its event time in [start, end)."""
    return conn.execute("SELECT EXISTS (SELECT 1 FROM ami_readings WHERE event_ts >= %s AND event_ts < %s)",
                        (start, end)).fetchone()[0]


def read_scada(conn: psycopg.Connection, start: datetime, end: datetime,
               element_types: tuple[str, ...] = ("load", "generator", "bus")) -> pd.DataFrame:
    return _frame(conn, "SELECT ts, element_type, element_id, bus_id, p_mw, q_mvar, vm_pu, va_deg, freq_hz,"
                        " quality_code, received_ts FROM scada_measurements WHERE ts >= %s AND ts < %s"
                        " AND element_type = ANY(%s)", (start, end, list(element_types)),
                  ("p_mw", "q_mvar", "vm_pu", "va_deg", "freq_hz"), ("ts", "received_ts"))


def read_weather(conn: psycopg.Connection, start: datetime, end: datetime, interval: timedelta) -> pd.DataFrame:
    """Station-averaged temperature and irradiance per interval in [start, end): the forecast's
    weather features."""
    frame = _frame(conn, "SELECT time_bucket(%s, ts) AS interval_start, avg(temperature_c) AS temperature_c,"
                         " avg(ghi_wm2) AS ghi_wm2 FROM weather_observations WHERE ts >= %s AND ts < %s"
                         " GROUP BY 1 ORDER BY 1", (interval, start, end), ("temperature_c", "ghi_wm2"),
                   ("interval_start",))
    return frame.set_index("interval_start")


def meter_expansion(conn: psycopg.Connection) -> pd.DataFrame:
    """Per bus: metered customers' mean demand (kW) from the asset model."""
    return _frame(conn, "SELECT bus_id, count(*) AS meters, sum(mean_load_kw) AS mean_kw FROM meters"
                        " JOIN poles USING (pole_id) JOIN feeders USING (feeder_id) GROUP BY bus_id", ())
