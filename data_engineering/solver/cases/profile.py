"""Load profile for cases that carry a single load snapshot.

A MATPOWER case holds one set of bus loads: we read it as the design peak, and follow a typical
weekday from 16:00 whose own peak is `TYPICAL_PEAK` (85 %) of it. Interval t (1-based, of
`interval_minutes`) has load `snapshot × TYPICAL_PEAK × shape(16:00 + t)`, every bus scaled alike.
The shape falls to 56 % overnight, so a 24-interval horizon sees the evening decline and the morning
pick-up, which is where ramp limits bite. (Design-peak loads make some PGLib cases N-1 infeasible
even with 1.2× emergency ratings; a typical day is what a look-ahead dispatch meets.)
"""

from __future__ import annotations

import numpy as np

# Relative load, 00:00 … 23:00 (peak = 1.0 at 16:00).
HOURLY_SHAPE = np.array([
    0.62, 0.59, 0.57, 0.56, 0.57, 0.61, 0.68, 0.76, 0.82, 0.86, 0.89, 0.92,
    0.94, 0.96, 0.98, 0.99, 1.00, 0.99, 0.97, 0.93, 0.88, 0.80, 0.72, 0.66,
])
SNAPSHOT_HOUR = 16.0
TYPICAL_PEAK = 0.85


def load_multipliers(intervals: int, interval_minutes: float = 60.0,
                     snapshot_hour: float = SNAPSHOT_HOUR) -> np.ndarray:
    """Multiplier of the snapshot load for intervals 1..T (linear interpolation between hours)."""
    hours = snapshot_hour + np.arange(1, intervals + 1) * interval_minutes / 60.0
    hourly = np.r_[HOURLY_SHAPE, HOURLY_SHAPE[0]]
    shape = np.interp(hours % 24.0, np.arange(25), hourly)
    return TYPICAL_PEAK * shape


def profile_loads(snapshot_mw: np.ndarray, intervals: int, interval_minutes: float = 60.0) -> np.ndarray:
    """(intervals, buses) loads following the shape."""
    return np.outer(load_multipliers(intervals, interval_minutes), snapshot_mw)
