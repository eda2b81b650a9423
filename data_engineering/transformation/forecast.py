"""Probabilistic bus-load forecast for the look-ahead horizon.

One gradient-boosting model per quantile (scikit-learn's `HistGradientBoostingRegressor` with the
pinball loss), pooled over buses and leads: a row is (origin, lead, bus), on loads normalised by
each bus's mean, and the target is the change from the latest observation. Features: the lead, the
latest level and its last change, the same time yesterday and last week (at the target, relative to
now), the target's time of day, weekday and public holiday (python-holidays), and the weather
observed at the origin when a weather series is given. Everything a row sees is known at its
origin, so a model fitted on the past is a fair forecaster of the future.

The quantile levels (0.1, 0.3, 0.5, 0.7, 0.9) are the midpoints of five equal probability bins, so
the five forecasts also serve as an ensemble for the CRPS (`forecast_scores`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

QUANTILES = (0.1, 0.3, 0.5, 0.7, 0.9)
MAX_TRAINING_ROWS = 30_000  # a sample of (origin, lead, bus) rows: enough for ~10 features, quick to fit
WEEK_DAYS = 7


@dataclass(frozen=True)
class QuantileForecast:
    """`values[q, h, n]`: quantile `quantiles[q]` of bus `columns[n]`'s load `h + 1` intervals ahead."""

    quantiles: tuple[float, ...]
    values: np.ndarray
    index: pd.DatetimeIndex
    columns: pd.Index

    def frame(self, q: float) -> pd.DataFrame:
        return pd.DataFrame(self.values[self.quantiles.index(q)], index=self.index, columns=self.columns)

    @property
    def median(self) -> pd.DataFrame:
        return self.frame(0.5)

    @property
    def band(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The outermost quantiles (P10, P90)."""
        return self.frame(self.quantiles[0]), self.frame(self.quantiles[-1])


@lru_cache(maxsize=16)
def _holidays(country: str, first: int, last: int) -> frozenset:
    return frozenset(holidays.country_holidays(country, years=range(first, last + 1)))


def holiday_flags(stamps: pd.DatetimeIndex, country: str | None) -> np.ndarray:
    """1.0 on the country's public holidays (local date of the stamp), else 0.0."""
    if not country or len(stamps) == 0:
        return np.zeros(len(stamps))
    days = _holidays(country, int(stamps.year.min()), int(stamps.year.max()))
    return np.fromiter((d in days for d in stamps.date), dtype=float, count=len(stamps))


@dataclass
class LoadForecaster:
    horizon: int
    interval: pd.Timedelta
    holiday_country: str | None = None
    quantiles: tuple[float, ...] = QUANTILES
    max_rows: int = MAX_TRAINING_ROWS
    max_iter: int = 80
    seed: int = 0
    models: list[HistGradientBoostingRegressor] = field(default_factory=list)
    scale: np.ndarray | None = None
    kept: np.ndarray | None = None  # feature columns the fit could use
    weather_columns: tuple[str, ...] = ()  # the weather series the fit saw

    @property
    def period(self) -> int:
        return int(pd.Timedelta(days=1) / self.interval)

    @property
    def min_history(self) -> int:
        return self.period + self.horizon + 2

    def _normalised(self, history: pd.DataFrame) -> np.ndarray:
        return history.to_numpy(dtype=float) / self.scale

    def features(self, y: np.ndarray, stamps: pd.DatetimeIndex, origins: np.ndarray,
                 weather: np.ndarray | None = None) -> np.ndarray:
        """Rows for every (origin, lead, bus), origin-major then lead then bus; `stamps` covers the
        history and the horizon after it. Last week's value is NaN where the history is shorter."""
        p, w, n_bus = self.period, WEEK_DAYS * self.period, y.shape[1]
        leads = np.arange(1, self.horizon + 1)
        target = origins[:, None] + leads[None, :]  # (O, H)
        now = y[origins][:, None, :]  # (O, 1, N)
        has_week = (target >= w)[..., None]
        week_target, week_origin = y[np.maximum(target - w, 0)], y[np.maximum(origins - w, 0)][:, None, :]
        yesterday_origin = y[origins - p][:, None, :]
        when = stamps[target.ravel()]
        per_target = np.stack([leads[None, :].repeat(len(origins), 0).ravel(),
                               (when.hour * 60 + when.minute).to_numpy(dtype=float), when.dayofweek.to_numpy(float),
                               holiday_flags(when, self.holiday_country)], axis=1).reshape(len(origins), -1, 4)
        columns = [np.broadcast_to(c, target.shape + (n_bus,)) for c in (
            now, (y[origins] - y[origins - 1])[:, None, :], y[target - p] - now, yesterday_origin - now,
            y[target - p] - yesterday_origin,  # how the load moved over the same lead yesterday
            np.where(has_week, week_target - now, np.nan), np.where(has_week, week_target - week_origin, np.nan))]
        columns += [np.broadcast_to(per_target[..., k:k + 1], target.shape + (n_bus,)) for k in range(4)]
        if weather is not None:
            columns += [np.broadcast_to(weather[origins][:, None, k:k + 1], target.shape + (n_bus,))
                        for k in range(weather.shape[1])]
        return np.stack([c.reshape(-1) for c in columns], axis=1)

    def fit(self, history: pd.DataFrame, weather: pd.DataFrame | None = None) -> LoadForecaster:
        """`history`: a regular grid of loads (rows = interval starts, columns = buses), at least a
        day and a horizon long; `weather`: optional observations on the same grid."""
        if self.horizon > self.period:
            raise ValueError(f"a horizon of {self.horizon} intervals is longer than a day ({self.period})")
        if len(history) < self.min_history:
            raise ValueError(f"the forecast needs at least {self.min_history} intervals of history, got {len(history)}")
        mean = history.mean().to_numpy(dtype=float)
        self.scale = np.where(mean > 1e-9, mean, 1.0)
        y = self._normalised(history)
        origins = np.arange(self.period, len(y) - self.horizon)
        self.weather_columns = () if weather is None or weather.empty else tuple(weather.columns)
        x = self.features(y, history.index, origins, self._weather(weather, history.index))
        self.kept = ~np.isnan(x).all(axis=0)  # last week's features need over a week of history
        x = x[:, self.kept]
        target = (y[origins[:, None] + np.arange(1, self.horizon + 1)] - y[origins][:, None, :]).ravel()
        rows = np.random.default_rng(self.seed).permutation(len(target))[: self.max_rows]
        with threadpool_limits(1):  # small fits: OpenMP threads only oversubscribe a busy worker's cores
            self.models = [HistGradientBoostingRegressor(loss="quantile", quantile=q, max_iter=self.max_iter,
                                                         learning_rate=0.1, min_samples_leaf=40,
                                                         random_state=self.seed).fit(x[rows], target[rows])
                           for q in self.quantiles]
        return self

    def predict_at(self, history: pd.DataFrame, origins: np.ndarray, weather: pd.DataFrame | None = None
                   ) -> np.ndarray:
        """(O, Q, H, N) loads (MW) from each origin position in `history` (the later rows are not
        seen by the features, so `history` may run past the origins, as in a backtest)."""
        y = self._normalised(history)
        stamps = history.index.append(pd.date_range(history.index[-1] + self.interval, periods=self.horizon,
                                                     freq=self.interval))
        padded = np.vstack([y, np.zeros((self.horizon, y.shape[1]))])
        x = self.features(padded, stamps, origins, self._weather(weather, stamps))[:, self.kept]
        shape = (len(origins), self.horizon, y.shape[1])
        with threadpool_limits(1):
            change = np.sort(np.stack([m.predict(x).reshape(shape) for m in self.models], axis=1), axis=1)
        loaded = history.iloc[: origins.min() + 1].abs().sum().to_numpy() > 0  # never loaded: not forecast any
        values = (y[origins][:, None, None, :] + change) * self.scale
        return np.where(loaded, np.maximum(values, 0.0), 0.0)

    def predict(self, history: pd.DataFrame, weather: pd.DataFrame | None = None) -> QuantileForecast:
        """Quantile loads for the `horizon` intervals after the last row of `history`."""
        values = self.predict_at(history, np.array([len(history) - 1]), weather)[0]
        index = pd.date_range(history.index[-1] + self.interval, periods=self.horizon, freq=self.interval)
        return QuantileForecast(tuple(self.quantiles), values, index, history.columns)

    def _weather(self, weather: pd.DataFrame | None, stamps: pd.DatetimeIndex) -> np.ndarray | None:
        """The fit's weather series on the load grid, carried forward (an origin sees the latest
        observation); NaN where a series is missing (the trees route missing values)."""
        if not self.weather_columns:
            return None
        if weather is None or weather.empty:
            return np.full((len(stamps), len(self.weather_columns)), np.nan)
        weather = weather.reindex(columns=list(self.weather_columns))
        return weather.reindex(weather.index.union(stamps)).ffill().reindex(stamps).to_numpy(dtype=float)
