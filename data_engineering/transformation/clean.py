"""Cleaning a telemetry window, by event time: duplicates, arrival order, lateness, units, outliers,
incomplete trailing intervals and gaps. Every change is counted in a `CleaningReport`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

MAD_TO_SIGMA = 1.4826


@dataclass
class CleaningReport:
    readings: int = 0
    unknown_meters: int = 0  # readings from meters missing in the asset model (left out)
    duplicates: int = 0  # same (meter, seq) seen again
    out_of_order: int = 0  # arrived after a later reading of the same meter
    late: int = 0  # arrived later than the allowed lateness after their event time
    outliers: int = 0  # power samples far outside the meter's own distribution (left out)
    incomplete_intervals: list[str] = field(default_factory=list)  # trailing intervals not yet complete
    gaps_filled: int = 0  # meter-intervals with no sample, interpolated

    def as_dict(self) -> dict:
        return asdict(self)


def robust_outliers(values: pd.Series, groups: pd.Series, threshold: float) -> pd.Series:
    """True where a value is more than `threshold` robust standard deviations (MAD) from its group's
    median; groups with no spread flag nothing."""
    median = values.groupby(groups).transform("median")
    mad = (values - median).abs().groupby(groups).transform("median") * MAD_TO_SIGMA
    spread = np.maximum(mad, 1e-3 * median.abs())
    return ((values - median).abs() > threshold * spread) & (spread > 0)


def clean_ami(frame: pd.DataFrame, interval: pd.Timedelta, allowed_lateness: pd.Timedelta,
              min_completeness: float = 0.8, outlier_threshold: float = 8.0) -> tuple[pd.DataFrame, CleaningReport]:
    """Readings → mean active power (MW) and voltage (pu) per meter and interval, on a regular grid.

    The last intervals of a window may still be filling with late data: trailing intervals whose
    sample count is below `min_completeness` of the expected count are left out (a watermark)."""
    report = CleaningReport(readings=len(frame))
    known = frame["bus_id"].notna()
    report.unknown_meters = int((~known).sum())
    frame = frame[known].drop_duplicates(["meter_id", "seq"])
    report.duplicates = int(known.sum() - len(frame))
    frame = frame.sort_values(["meter_id", "event_ts"], kind="stable")
    earlier_arrival = frame.groupby("meter_id")["received_ts"].cummax().groupby(frame["meter_id"]).shift()
    report.out_of_order = int((frame["received_ts"] < earlier_arrival).sum())
    report.late = int(((frame["received_ts"] - frame["event_ts"]) > allowed_lateness).sum())

    frame = frame.assign(p_mw=frame["power_kw"] / 1000.0, vm_pu=frame["voltage_v"] / frame["nominal_voltage_v"],
                         interval_start=frame["event_ts"].dt.floor(interval), bus_id=frame["bus_id"].astype(int))
    outlier = robust_outliers(frame["power_kw"], frame["meter_id"], outlier_threshold)
    report.outliers = int(outlier.sum())
    frame.loc[outlier, "p_mw"] = np.nan

    spacing = frame.groupby("meter_id")["event_ts"].diff().dt.total_seconds().median()
    per_meter = interval.total_seconds() / spacing if spacing and spacing > 0 else 1.0
    counts = frame.groupby("interval_start").size()
    completeness = counts / (frame["meter_id"].nunique() * per_meter)
    trailing = completeness[::-1].lt(min_completeness).cummin()[::-1]
    report.incomplete_intervals = [ts.isoformat() for ts in completeness.index[trailing.to_numpy()]]
    frame = frame[~frame["interval_start"].isin(completeness.index[trailing.to_numpy()])]

    means = frame.groupby(["meter_id", "bus_id", "interval_start"])[["p_mw", "vm_pu"]].mean()
    if means.empty:
        return means.reset_index(), report
    grid = pd.date_range(means.index.get_level_values("interval_start").min(),
                         means.index.get_level_values("interval_start").max(), freq=interval)
    wide = means["p_mw"].unstack("interval_start").reindex(columns=grid)
    report.gaps_filled = int(wide.isna().sum().sum())
    wide = wide.T.interpolate(limit_direction="both").T
    wide = wide.apply(lambda row: row.fillna(row.mean()), axis=1)
    volts = means["vm_pu"].unstack("interval_start").reindex(columns=grid)
    cleaned = pd.DataFrame({"p_mw": wide.stack(), "vm_pu": volts.stack(future_stack=True)}).reset_index()
    cleaned.columns = ["meter_id", "bus_id", "interval_start", "p_mw", "vm_pu"]
    return cleaned, report


def clean_scada(frame: pd.DataFrame) -> pd.DataFrame:
    """Good and questionable measurements, one per element and time (bad ones are not used)."""
    usable = frame[frame["quality_code"].isin(["good", "questionable", "substituted"])]
    return usable.sort_values("received_ts").drop_duplicates(["element_type", "element_id", "ts"], keep="last")
