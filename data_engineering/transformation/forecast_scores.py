"""Scores of a quantile forecast against what happened: MAE and MAPE of the median, the mean pinball
loss over the quantiles, the CRPS (the quantiles read as an equally weighted ensemble), the relative
CRPS (each series' CRPS over the range of its realised values, as OpenSTEF reports it, so series of
any size compare) and the coverage of the outer quantile band.

Arrays are (origins, quantiles, leads, series) for forecasts and (origins, leads, series) for the
truth; everything is in the series' own unit (MW)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

MAPE_FLOOR = 0.05  # MAPE counts a truth only above this share of its series' mean (near-zero loads explode it)


@dataclass(frozen=True)
class Scores:
    method: str
    origins: int
    mae_mw: float
    mape_pct: float
    pinball_mw: float
    crps_mw: float
    rcrps: float
    coverage: float  # share of truths inside [lowest, highest quantile]
    nominal_coverage: float  # what a calibrated band would cover

    def as_dict(self) -> dict:
        return asdict(self)


def pinball(forecast: np.ndarray, truth: np.ndarray, quantiles: tuple[float, ...]) -> np.ndarray:
    """(O, H, N) pinball loss averaged over the quantiles."""
    q = np.asarray(quantiles)[None, :, None, None]
    miss = truth[:, None] - forecast
    return np.maximum(q * miss, (q - 1) * miss).mean(axis=1)


def crps(forecast: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(O, H, N) CRPS of the quantiles as ensemble members: E|X − y| − ½ E|X − X'|."""
    spread = np.abs(forecast[:, :, None] - forecast[:, None, :]).mean(axis=(1, 2))
    return np.abs(forecast - truth[:, None]).mean(axis=1) - 0.5 * spread


def score(method: str, forecast: np.ndarray, truth: np.ndarray, quantiles: tuple[float, ...]) -> Scores:
    median = forecast[:, quantiles.index(0.5)] if 0.5 in quantiles else forecast.mean(axis=1)
    error = np.abs(median - truth)
    level = np.abs(truth).mean(axis=(0, 1))
    counted = np.abs(truth) > MAPE_FLOOR * level
    crps_values = crps(forecast, truth)
    span = truth.max(axis=(0, 1)) - truth.min(axis=(0, 1))
    varied = span > 1e-9
    rcrps = crps_values.mean(axis=(0, 1))[varied] / span[varied]
    inside = (truth >= forecast[:, 0]) & (truth <= forecast[:, -1])
    return Scores(method=method, origins=forecast.shape[0], mae_mw=float(error.mean()),
                  mape_pct=float(100 * (error[counted] / np.abs(truth[counted])).mean()) if counted.any() else 0.0,
                  pinball_mw=float(pinball(forecast, truth, quantiles).mean()), crps_mw=float(crps_values.mean()),
                  rcrps=float(rcrps.mean()) if len(rcrps) else 0.0, coverage=float(inside.mean()),
                  nominal_coverage=float(quantiles[-1] - quantiles[0]))
