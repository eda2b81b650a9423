"""Year-long real-derived load and generation profiles from the SimBench data set (PyPI `simbench`).

SimBench ships 15-minute active-power profiles for 2016 (a leap year): the German standard load
profiles by customer group (H0 households, G0–G6 business, L0–L2 farms), heat pumps, charging
points, and measured-data aggregates for whole LV/MV/HV grids, plus PV, wind, biomass and hydro
feed-in. The simulator's `--profiles simbench` mode drives each meter with one profile of its
customer class (`CLASS_PROFILES`), and `bench/forecast.py` backtests the forecast on them: load
shapes we did not write.

A simulated instant maps to the 2016 profile row of the same month and day, moved by a few days
so that the weekday matches (weekday/weekend patterns stay true; 2016's German holidays fall
where they fell). The CSV (50 MB) is parsed once and cached as Parquet."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

GRID = "1-complete_data-mixed-all-0-sw"  # the SimBench code whose folder carries every profile
STEP_MINUTES = 15
ROWS = 366 * 24 * 60 // STEP_MINUTES
PROFILE_YEAR = 2016

# customer class → SimBench load profiles a meter of that class may follow (chosen per meter)
CLASS_PROFILES: dict[str, tuple[str, ...]] = {
    "residential": ("H0-A", "H0-B", "H0-C", "H0-G", "H0-H", "H0-L"),
    "commercial": ("G0-A", "G0-M", "G1-A", "G1-B", "G1-C", "G2-A", "G4-A", "G4-B", "G4-H", "G4-M", "G5-A", "G6-A"),
    "industrial": ("G3-A", "G3-H", "G3-M"),
}
# profile families reported separately by the forecast backtest
FAMILIES = {"household (H0)": r"H0-", "business (G0-G6)": r"G\d-", "agriculture (L0-L2)": r"L\d-",
            "LV grids": r"lv_", "MV grids": r"mv_", "HV grids": r"hv_"}  # profile name prefixes


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "lascopf"


def _source(name: str) -> Path:
    try:
        import simbench
    except ImportError as exc:  # the profiles are an optional extra, said so by name
        raise RuntimeError("SimBench profiles need the `simbench` package: pip install simbench") from exc
    return Path(simbench.__file__).parent / "networks" / GRID / name


@lru_cache(maxsize=2)
def _table(name: str, suffix: str) -> pd.DataFrame:
    """A profile CSV's columns ending in `suffix` (suffix removed), rows every 15 minutes of 2016,
    cached as Parquet per SimBench version."""
    cache = _cache_dir() / f"simbench-{metadata.version('simbench')}-{name.lower()}{suffix}.parquet"
    if cache.exists():
        return pd.read_parquet(cache)
    raw = pd.read_csv(_source(f"{name}.csv"), sep=";")
    keep = [c for c in raw.columns if c != "time" and c.endswith(suffix)]
    frame = raw[keep].astype(float).rename(columns=lambda c: c[: len(c) - len(suffix)] if suffix else c)
    frame.index = pd.to_datetime(raw["time"], format="%d.%m.%Y %H:%M")
    if len(frame) != ROWS:
        raise ValueError(f"SimBench {name}: {len(frame)} rows, expected {ROWS} (15 minutes over 2016)")
    cache.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(cache.with_suffix(".tmp"))
    os.replace(cache.with_suffix(".tmp"), cache)
    return frame


def load_profiles() -> pd.DataFrame:
    """Active-power load profiles (columns by profile name), 15-minute rows over 2016."""
    return _table("LoadProfile", "_pload")


def generation_profiles() -> pd.DataFrame:
    """PV, wind, biomass and hydro feed-in profiles (per unit of installed power)."""
    return _table("RESProfile", "")


def row_position(at: datetime) -> float:
    """Fractional 2016 profile row for an instant: same month and day, moved to the same weekday
    (by at most three days; up to ten at the year's ends, which 2016 cannot wrap)."""
    same = date(PROFILE_YEAR, at.month, at.day)
    shift = (at.weekday() - same.weekday() + 3) % 7 - 3
    day = same.toordinal() - date(PROFILE_YEAR, 1, 1).toordinal() + shift
    day += 7 if day < 0 else -7 if day >= 366 else 0  # stay inside 2016: wrapping would lose the weekday
    return day * (ROWS / 366) + (at.hour * 60 + at.minute + at.second / 60 + at.microsecond / 6e7) / STEP_MINUTES


def at_position(values: np.ndarray, position: float) -> np.ndarray:
    """Rows of `values` (ROWS, K) interpolated linearly at a fractional row (wrapping at year end)."""
    lower = int(np.floor(position)) % ROWS
    frac = position - np.floor(position)
    return values[lower] * (1 - frac) + values[(lower + 1) % ROWS] * frac


@dataclass(frozen=True)
class MeterProfiles:
    """Each meter's profile (an index into `names`) and the profiles normalised to a mean of 1."""

    names: tuple[str, ...]
    values: np.ndarray  # (ROWS, K)
    meter_profile: np.ndarray  # (meters,)
    pv: np.ndarray  # (ROWS,) PV feed-in per unit of its yearly peak, for the irradiance

    def at(self, when: datetime) -> np.ndarray:
        """Each meter's demand at `when` relative to its yearly mean."""
        return at_position(self.values, row_position(when))[self.meter_profile]

    def yearly_peak_ratio(self, mean_kw: np.ndarray) -> float:
        """The fleet's highest 15-minute demand over the year relative to its mean demand."""
        totals = np.bincount(self.meter_profile, weights=mean_kw, minlength=len(self.names))
        return float((self.values @ totals).max() / max(mean_kw.sum(), 1e-9))

    def irradiance_wm2(self, when: datetime, peak_wm2: float = 1000.0) -> float:
        return float(at_position(self.pv[:, None], row_position(when))[0] * peak_wm2)


def meter_profiles(classes: list[str], meter_class: np.ndarray, rng: np.random.Generator) -> MeterProfiles:
    """One profile per meter, drawn among its class's (`CLASS_PROFILES`)."""
    table = load_profiles()
    names = tuple(dict.fromkeys(n for c in classes for n in CLASS_PROFILES[c]))
    values = table[list(names)].to_numpy()
    values = values / np.maximum(values.mean(axis=0), 1e-12)
    pick = rng.random(len(meter_class))
    sizes = np.array([len(CLASS_PROFILES[c]) for c in classes])[meter_class]
    local = np.minimum((pick * sizes).astype(int), sizes - 1)
    index = {n: i for i, n in enumerate(names)}
    chosen = [index[CLASS_PROFILES[classes[c]][k]] for c, k in zip(meter_class, local, strict=True)]
    feed_in = generation_profiles()
    pv = feed_in[[c for c in feed_in.columns if c.startswith("PV")]].mean(axis=1)
    return MeterProfiles(names, values, np.asarray(chosen, dtype=int), (pv / pv.max()).to_numpy())


def seasonal_temperature_c(when: datetime, annual_mean_c: float = 10.0, seasonal_swing_c: float = 9.0) -> float:
    """A central-European daily mean temperature for the profiles' climate: coldest mid-January."""
    day = when.timetuple().tm_yday
    return annual_mean_c - seasonal_swing_c * float(np.cos(2 * np.pi * (day - 15) / 365.25))


def family_of(profile: str) -> str | None:
    """The backtest family a SimBench load profile belongs to."""
    return next((family for family, prefix in FAMILIES.items() if re.match(prefix, profile)), None)
