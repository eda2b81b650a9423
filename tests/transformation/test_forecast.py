"""The load forecast against persistence on the simulator's history, and its mechanics."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from data_engineering.simulation.engine import SimulationConfig, Simulator
from data_engineering.simulation.history import scada_history
from data_engineering.transformation.bus_load import regular, scada_bus_load
from data_engineering.transformation.forecast import LoadForecaster, backtest

INTERVAL = pd.Timedelta(minutes=5)


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    sim = Simulator(SimulationConfig(start=datetime(2026, 11, 20, 12, tzinfo=UTC), duration_s=60, n_meters=60))
    frame = pd.DataFrame(scada_history(sim, 8))
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return regular(scada_bus_load(frame, INTERVAL), sim.grid.bus_ids, INTERVAL)


def test_the_forecast_beats_persistence_on_the_simulated_history(history: pd.DataFrame) -> None:
    result = backtest(history, horizon=12, interval=INTERVAL, holdout_days=1.0)
    assert result.origins == 288 - 12
    assert result.model_mae_mw < 0.5 * result.persistence_mae_mw
    assert result.model_mape_pct < result.persistence_mape_pct
    assert result.skill > 0.5


def test_the_forecast_continues_the_history_on_its_grid(history: pd.DataFrame) -> None:
    forecast = LoadForecaster(12, INTERVAL).fit(history).predict(history)
    assert list(forecast.columns) == list(history.columns)
    assert forecast.index[0] == history.index[-1] + INTERVAL and len(forecast) == 12
    assert (forecast.to_numpy() >= 0).all()
    assert (forecast.loc[:, history.sum() == 0].to_numpy() == 0).all()  # buses without load stay at zero
    step = forecast.sum(axis=1).iloc[0] / history.sum(axis=1).iloc[-1]
    assert 0.9 < step < 1.1


def test_too_short_a_history_is_refused(history: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="at least"):
        LoadForecaster(12, INTERVAL).fit(history.iloc[:100])


def test_a_constant_load_is_forecast_constant() -> None:
    index = pd.date_range("2026-11-01", periods=3 * 288, freq=INTERVAL, tz="UTC")
    flat = pd.DataFrame({1: np.full(len(index), 50.0), 2: np.full(len(index), 0.0)}, index=index)
    forecast = LoadForecaster(6, INTERVAL).fit(flat).predict(flat)
    np.testing.assert_allclose(forecast[1], 50.0, rtol=1e-6)
