"""Bus-load forecast for the look-ahead horizon, and its backtest against persistence.

A direct multi-horizon ridge regression, one model per step ahead, pooled over buses on loads
normalised by each bus's mean. It predicts the change from the latest observation from: the latest
level and its last change, the same time yesterday (at the origin and at the target) and
time-of-day harmonics of the target. Persistence (the latest value held) is the baseline it must
beat; `backtest` reports both on held-out days."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

HARMONICS = 3


@dataclass(frozen=True)
class Backtest:
    horizon: int
    origins: int
    model_mae_mw: float
    persistence_mae_mw: float
    model_mape_pct: float
    persistence_mape_pct: float

    @property
    def skill(self) -> float:
        """1 − model error / persistence error (positive: better than persistence)."""
        return 1.0 - self.model_mae_mw / self.persistence_mae_mw if self.persistence_mae_mw else 0.0


@dataclass
class LoadForecaster:
    horizon: int
    interval: pd.Timedelta
    alpha: float = 1.0
    models: list[Ridge] = field(default_factory=list)

    @property
    def period(self) -> int:
        return int(pd.Timedelta(days=1) / self.interval)

    def _features(self, y: np.ndarray, minutes: np.ndarray, origins: np.ndarray, h: int) -> np.ndarray:
        """Rows = (origin, bus) pairs, for targets `h` steps ahead."""
        p = self.period
        now, prev = y[origins], y[origins - 1]
        yesterday_target, yesterday_now = y[origins + h - p], y[origins - p]
        angle = 2 * np.pi * ((minutes[origins] + h * self.interval.total_seconds() / 60) / 1440.0)
        harmonics = [f(k * angle) for k in range(1, HARMONICS + 1) for f in (np.sin, np.cos)]
        n_bus = y.shape[1]
        cols = [now, now - prev, yesterday_target - now, yesterday_now - now]
        cols += [np.repeat(c[:, None], n_bus, axis=1) for c in harmonics]
        return np.stack([c.ravel() for c in cols], axis=1)

    def _normalised(self, history: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scale = history.mean().to_numpy()
        scale = np.where(scale > 1e-9, scale, 1.0)
        minutes = (history.index.hour * 60 + history.index.minute).to_numpy(dtype=float)
        return history.to_numpy() / scale, scale, minutes

    def _origins(self, n: int, h: int) -> np.ndarray:
        return np.arange(self.period, n - h)

    def fit(self, history: pd.DataFrame) -> LoadForecaster:
        """`history`: a regular grid of loads (rows = interval starts, columns = buses), at least a
        day and a horizon long."""
        y, _, minutes = self._normalised(history)
        if len(y) < self.period + self.horizon + 2:
            raise ValueError(f"the forecast needs at least {self.period + self.horizon + 2} intervals of history, "
                             f"got {len(y)}")
        self.models = []
        for h in range(1, self.horizon + 1):
            origins = self._origins(len(y), h)
            target = (y[origins + h] - y[origins]).ravel()
            self.models.append(Ridge(alpha=self.alpha).fit(self._features(y, minutes, origins, h), target))
        return self

    def predict(self, history: pd.DataFrame) -> pd.DataFrame:
        """Loads for the `horizon` intervals after the last row of `history`."""
        y, scale, minutes = self._normalised(history)
        origin = np.array([len(y) - 1])
        steps = []
        padded = np.vstack([y, np.zeros((self.horizon, y.shape[1]))])  # targets' yesterday lies inside y
        for h, model in enumerate(self.models, start=1):
            steps.append(y[-1] + model.predict(self._features(padded, minutes_padded(minutes, self.interval,
                                                                                     self.horizon), origin, h)))
        index = pd.date_range(history.index[-1] + self.interval, periods=self.horizon, freq=self.interval)
        loaded = history.abs().sum().to_numpy() > 0  # a bus that never carried load is not forecast any
        values = np.where(loaded, np.maximum(np.array(steps) * scale, 0.0), 0.0)
        return pd.DataFrame(values, index=index, columns=history.columns)


def minutes_padded(minutes: np.ndarray, interval: pd.Timedelta, extra: int) -> np.ndarray:
    step = interval.total_seconds() / 60
    return np.r_[minutes, (minutes[-1] + step * np.arange(1, extra + 1)) % 1440]


def backtest(history: pd.DataFrame, horizon: int, interval: pd.Timedelta, holdout_days: float = 1.0,
             alpha: float = 1.0) -> Backtest:
    """Fit on all but the last `holdout_days`, then forecast from every origin in them; errors over
    every bus and step ahead, for the model and for persistence."""
    holdout = int(pd.Timedelta(days=holdout_days) / interval)
    train = history.iloc[:-holdout]
    model = LoadForecaster(horizon, interval, alpha).fit(train)
    y = history.to_numpy()
    start = len(history) - holdout
    errors, naive, actual = [], [], []
    for origin in range(start, len(history) - horizon):
        forecast = model.predict(history.iloc[: origin + 1]).to_numpy()
        truth = y[origin + 1: origin + 1 + horizon]
        errors.append(np.abs(forecast - truth))
        naive.append(np.abs(y[origin] - truth))
        actual.append(np.abs(truth))
    e, n, a = np.array(errors), np.array(naive), np.array(actual)
    loaded = a > 1e-6
    return Backtest(horizon, len(errors), float(e.mean()), float(n.mean()),
                    float(100 * (e[loaded] / a[loaded]).mean()), float(100 * (n[loaded] / a[loaded]).mean()))
