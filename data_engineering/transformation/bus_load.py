"""From cleaned telemetry to network-bus loads and the units' present output.

SCADA measures each bus's load at the substation; AMI meters measure a sample of the customers
behind it. A bus's observed load is its SCADA value where one is usable, else its metered load
expanded by the ratio of SCADA to metered load seen on that bus (a load-research expansion)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def scada_bus_load(scada: pd.DataFrame, interval: pd.Timedelta) -> pd.DataFrame:
    """Mean load per interval (rows) and bus (columns), MW."""
    loads = scada[scada["element_type"] == "load"]
    if loads.empty:
        return pd.DataFrame(dtype=float)
    loads = loads.assign(interval_start=loads["ts"].dt.floor(interval), bus_id=loads["bus_id"].astype(int))
    return loads.pivot_table(index="interval_start", columns="bus_id", values="p_mw", aggfunc="mean")


def ami_bus_load(meter_intervals: pd.DataFrame) -> pd.DataFrame:
    """Metered load per interval and bus, MW: the sum over the bus's meters (asset model)."""
    if meter_intervals.empty:
        return pd.DataFrame(dtype=float)
    return meter_intervals.pivot_table(index="interval_start", columns="bus_id", values="p_mw", aggfunc="sum")


def expansion_factors(scada: pd.DataFrame, ami: pd.DataFrame) -> pd.Series:
    """Per bus: median of SCADA load / metered load over the intervals where both exist."""
    both = scada.reindex_like(ami)
    ratio = (both / ami.where(ami > 0)).median()
    return ratio.dropna()


def observed_bus_load(scada: pd.DataFrame, ami: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """SCADA where usable, else metered load × the bus's expansion factor; and the factors."""
    factors = expansion_factors(scada, ami) if not scada.empty and not ami.empty else pd.Series(dtype=float)
    expanded = ami.mul(factors, axis=1).dropna(axis=1, how="all") if not ami.empty else ami
    if scada.empty:
        return expanded, factors
    return scada.combine_first(expanded), factors


def unit_output(scada: pd.DataFrame) -> pd.Series:
    """Each unit's latest measured output (MW): P0 of the look-ahead."""
    units = scada[(scada["element_type"] == "generator") & scada["p_mw"].notna()]
    latest = units.sort_values("ts").groupby("element_id")["p_mw"].last()
    return latest.astype(float)


def regular(frame: pd.DataFrame, bus_ids: np.ndarray, interval: pd.Timedelta) -> pd.DataFrame:
    """On a regular time grid with columns in the network's bus order: short gaps interpolated in
    time, buses that never carry load zero."""
    grid = pd.date_range(frame.index.min(), frame.index.max(), freq=interval)
    out = frame.reindex(index=grid, columns=bus_ids.tolist()).interpolate(limit_direction="both")
    return out.fillna(0.0)
