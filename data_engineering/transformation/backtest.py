"""Rolling-origin backtest of the quantile load forecast against two baselines.

Each fold fits the forecaster on the history before the fold's first interval only, then forecasts
from every `stride`-th origin inside the fold: nothing after an origin reaches its forecast, and no
target inside a fold reaches the model that forecasts it. The baselines are persistence (the latest
value held) and the same time last week; each gets a quantile band from its own errors on the
training history (per lead), so their CRPS and coverage are those of an honest probabilistic
baseline rather than of a bare point forecast."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data_engineering.transformation.forecast import WEEK_DAYS, LoadForecaster
from data_engineering.transformation.forecast_scores import Scores, score

MAX_ERROR_ORIGINS = 2_000  # training origins sampled for a baseline's error quantiles


@dataclass(frozen=True)
class BacktestRun:
    """The raw forecasts of every method, for scoring over any subset of series."""

    quantiles: tuple[float, ...]
    truth: np.ndarray  # (O, H, N)
    forecasts: dict[str, np.ndarray]  # method → (O, Q, H, N)
    columns: pd.Index
    folds: int
    forecaster: LoadForecaster  # the last fold's fit

    @property
    def origins(self) -> int:
        return self.truth.shape[0]

    def scores(self, columns: list | None = None) -> dict[str, Scores]:
        pick = slice(None) if columns is None else self.columns.get_indexer(columns)
        return {name: score(name, f[..., pick], self.truth[..., pick], self.quantiles)
                for name, f in self.forecasts.items()}


@dataclass(frozen=True)
class Backtest:
    """Scores of the model and the baselines over all series."""

    horizon: int
    origins: int
    folds: int
    scores: dict[str, Scores]
    forecaster: LoadForecaster  # fitted on all but the held-out days: the model these scores describe

    @property
    def model(self) -> Scores:
        return self.scores["model"]

    @property
    def persistence(self) -> Scores:
        return self.scores["persistence"]

    @property
    def skill(self) -> float:
        """1 − model MAE / persistence MAE (positive: better than persistence)."""
        p = self.persistence.mae_mw
        return 1.0 - self.model.mae_mw / p if p else 0.0

    def as_dict(self) -> dict:
        return {"horizon": self.horizon, "origins": self.origins, "folds": self.folds, "skill": self.skill,
                "scores": {k: v.as_dict() for k, v in self.scores.items()}}


def _baseline_point(y: np.ndarray, origins: np.ndarray, horizon: int, lag: int | None) -> np.ndarray:
    """(O, H, N): persistence (`lag` None) or the value `lag` intervals before each target."""
    if lag is None:
        return np.repeat(y[origins][:, None, :], horizon, axis=1)
    return y[origins[:, None] + np.arange(1, horizon + 1) - lag]


def _with_error_band(point: np.ndarray, y: np.ndarray, train_origins: np.ndarray, horizon: int, lag: int | None,
                     quantiles: tuple[float, ...]) -> np.ndarray:
    """(O, Q, H, N): the point forecast plus its training errors' quantiles per lead (pooled over
    series, in units of each series' mean, so one band fits buses of every size)."""
    truth = y[train_origins[:, None] + np.arange(1, horizon + 1)]
    errors = truth - _baseline_point(y, train_origins, horizon, lag)
    offsets = np.quantile(errors.transpose(1, 0, 2).reshape(horizon, -1), quantiles, axis=1)  # (Q, H)
    return point[:, None] + offsets[None, :, :, None]


def run_backtest(history: pd.DataFrame, horizon: int, interval: pd.Timedelta, fold_starts: list[int],
                 fold_length: int, stride: int = 1, holiday_country: str | None = None,
                 weather: pd.DataFrame | None = None, forecaster: dict | None = None) -> BacktestRun:
    """Forecasts of the model, persistence and last week from the origins of every fold."""
    make = LoadForecaster(horizon, interval, holiday_country, **(forecaster or {}))
    week = WEEK_DAYS * make.period
    mean = history.mean().to_numpy(dtype=float)
    scale = np.where(mean > 1e-9, mean, 1.0)
    y = history.to_numpy(dtype=float)
    truths, forecasts = [], {"model": [], "persistence": [], "last_week": []}
    for start in fold_starts:
        origins = np.arange(start, min(start + fold_length, len(y) - horizon), stride)
        if len(origins) == 0:
            continue
        model = LoadForecaster(horizon, interval, holiday_country, **(forecaster or {})).fit(
            history.iloc[:start], None if weather is None else weather[weather.index < history.index[start]])
        forecasts["model"].append(model.predict_at(history, origins, weather))
        truths.append(y[origins[:, None] + np.arange(1, horizon + 1)])
        rng = np.random.default_rng(start)
        for name, lag, first in (("persistence", None, 1), ("last_week", week, week)):
            train = np.arange(first, start - horizon)
            if len(train) == 0 or (lag is not None and origins.min() + 1 < lag):
                forecasts[name].append(None)
                continue
            train = np.sort(rng.choice(train, size=min(len(train), MAX_ERROR_ORIGINS), replace=False))
            band = _with_error_band(_baseline_point(y, origins, horizon, lag) / scale, y / scale, train, horizon,
                                    lag, make.quantiles)
            forecasts[name].append(band * scale)
    if not truths:
        raise ValueError("the backtest has no origin: the history is shorter than one fold and the horizon")
    kept = {name: np.concatenate(parts) for name, parts in forecasts.items() if parts and all(
        p is not None for p in parts)}
    return BacktestRun(tuple(make.quantiles), np.concatenate(truths), kept, history.columns, len(truths), model)


def backtest(history: pd.DataFrame, horizon: int, interval: pd.Timedelta, holdout_days: float = 1.0,
             holiday_country: str | None = None, weather: pd.DataFrame | None = None,
             forecaster: dict | None = None) -> Backtest:
    """One fold: fit on all but the last `holdout_days`, forecast from every origin in them."""
    holdout = int(pd.Timedelta(days=holdout_days) / interval)
    run = run_backtest(history, horizon, interval, [len(history) - holdout], holdout, 1, holiday_country, weather,
                       forecaster)
    return Backtest(horizon, run.origins, run.folds, run.scores(), run.forecaster)
