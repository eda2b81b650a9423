"""Daily load curves and weather, as smooth functions of local solar time (hours in [0, 24))."""

from __future__ import annotations

from datetime import date

import numpy as np


def _bump(hour: np.ndarray | float, centre: float, width: float) -> np.ndarray:
    d = (np.asarray(hour) - centre + 12) % 24 - 12
    return np.exp(-0.5 * (d / width) ** 2)


def residential(hour: np.ndarray | float) -> np.ndarray:
    """Night trough, morning and evening peaks; mean ≈ 1 over a day."""
    return (0.55 + 0.45 * _bump(hour, 7.5, 1.3) + 0.9 * _bump(hour, 19.0, 2.2)) / 0.98


def commercial(hour: np.ndarray | float) -> np.ndarray:
    """Working-hours plateau."""
    h = np.asarray(hour)
    return (0.45 + 0.9 / (1 + np.exp(-(h - 8) * 2)) / (1 + np.exp((h - 18) * 2))) / 0.82


def industrial(hour: np.ndarray | float) -> np.ndarray:
    """Near-flat process load with a midday shoulder."""
    return 0.9 + 0.2 * _bump(hour, 13.0, 4.0)


SHAPES = (residential, commercial, industrial)


def temperature_c(hour: np.ndarray | float, daily_mean_c: float = 24.0, swing_c: float = 6.0) -> np.ndarray:
    """Coldest near 05:00, warmest near 15:00."""
    return daily_mean_c + swing_c * np.cos((np.asarray(hour) - 15.0) / 24.0 * 2 * np.pi)


def clear_sky_ghi(hour: np.ndarray | float, peak_wm2: float = 950.0) -> np.ndarray:
    h = np.asarray(hour)
    return peak_wm2 * np.clip(np.sin((h - 6) / 12 * np.pi), 0.0, None) ** 1.5


def cooling_factor(temp_c: np.ndarray | float, threshold_c: float = 22.0, per_degree: float = 0.02) -> np.ndarray:
    """Air-conditioning load rises above a comfort threshold."""
    return 1.0 + per_degree * np.maximum(0.0, np.asarray(temp_c) - threshold_c)


def day_factor(day: date, seed: int) -> np.ndarray:
    """Each day's demand level per customer class (residential, commercial, industrial): weekends
    are lighter for business, and every day draws its own weather-driven level, deterministically
    from the date and the seed."""
    rng = np.random.default_rng([seed, day.toordinal()])
    weather = 1.0 + 0.04 * rng.standard_normal()
    weekend = day.weekday() >= 5
    return weather * np.array([1.05 if weekend else 1.0, 0.6 if weekend else 1.0, 0.85 if weekend else 1.0])
