"""The quantile load forecast against its baselines on the simulator's history, its mechanics, and
that a backtest cannot see the future."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from data_engineering.simulation.engine import SimulationConfig, Simulator
from data_engineering.simulation.history import scada_history
from data_engineering.transformation.backtest import backtest, run_backtest
from data_engineering.transformation.forecast import LoadForecaster, holiday_flags

INTERVAL = pd.Timedelta(minutes=5)


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    from data_engineering.transformation.bus_load import regular, scada_bus_load

    sim = Simulator(SimulationConfig(start=datetime(2026, 11, 20, 12, tzinfo=UTC), duration_s=60, n_meters=60))
    frame = pd.DataFrame(scada_history(sim, 9))
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return regular(scada_bus_load(frame, INTERVAL), sim.grid.bus_ids, INTERVAL)


def test_the_forecast_beats_both_baselines_on_the_simulated_history(history: pd.DataFrame) -> None:
    result = backtest(history, horizon=12, interval=INTERVAL, holdout_days=1.0, holiday_country="US")
    assert result.origins == 288 - 12 and result.folds == 1
    model, persistence, week = result.model, result.persistence, result.scores["last_week"]
    assert model.mae_mw < 0.5 * persistence.mae_mw and model.mae_mw < 0.5 * week.mae_mw
    assert model.rcrps < persistence.rcrps and model.pinball_mw < persistence.pinball_mw
    assert 0.5 < model.coverage <= 1.0 and model.nominal_coverage == pytest.approx(0.8)
    assert result.skill > 0.5


def test_the_forecast_continues_the_history_on_its_grid(history: pd.DataFrame) -> None:
    forecast = LoadForecaster(12, INTERVAL).fit(history).predict(history)
    median, (p10, p90) = forecast.median, forecast.band
    assert list(median.columns) == list(history.columns)
    assert median.index[0] == history.index[-1] + INTERVAL and len(median) == 12
    assert (forecast.values >= 0).all() and (np.diff(forecast.values, axis=0) >= 0).all()  # quantiles ordered
    assert (median.loc[:, history.sum() == 0].to_numpy() == 0).all()  # buses without load stay at zero
    assert (p10.sum(axis=1) < p90.sum(axis=1)).all()
    step = median.sum(axis=1).iloc[0] / history.sum(axis=1).iloc[-1]
    assert 0.9 < step < 1.1


def test_a_backtest_forecast_does_not_see_past_its_origin(history: pd.DataFrame) -> None:
    model = LoadForecaster(12, INTERVAL).fit(history.iloc[: -288])
    origin = len(history) - 200
    honest = model.predict_at(history, np.array([origin]))
    tampered = history.copy()
    tampered.iloc[origin + 1:] = 1e6  # the future, replaced by nonsense
    np.testing.assert_array_equal(model.predict_at(tampered, np.array([origin])), honest)


def test_each_fold_is_fitted_only_on_what_precedes_it(history: pd.DataFrame, monkeypatch) -> None:
    seen: list[pd.Timestamp] = []
    fit = LoadForecaster.fit

    def spy(self, frame, weather=None):  # noqa: ANN001, ANN202
        seen.append(frame.index[-1])
        return fit(self, frame, weather)

    monkeypatch.setattr(LoadForecaster, "fit", spy)
    starts = [len(history) - 288, len(history) - 144]
    run = run_backtest(history, 12, INTERVAL, starts, 144, stride=12)
    assert [s + INTERVAL for s in seen] == [history.index[s] for s in starts]
    assert run.folds == 2 and run.origins == 12 + 11  # the last fold stops a horizon short of the end
    assert set(run.forecasts) == {"model", "persistence", "last_week"}


def test_too_short_a_history_or_too_long_a_horizon_is_refused(history: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="at least"):
        LoadForecaster(12, INTERVAL).fit(history.iloc[:100])
    with pytest.raises(ValueError, match="longer than a day"):
        LoadForecaster(300, INTERVAL).fit(history)


def test_a_constant_load_is_forecast_constant() -> None:
    index = pd.date_range("2026-11-01", periods=3 * 288, freq=INTERVAL, tz="UTC")
    flat = pd.DataFrame({1: np.full(len(index), 50.0), 2: np.full(len(index), 0.0)}, index=index)
    forecast = LoadForecaster(6, INTERVAL).fit(flat).predict(flat)
    np.testing.assert_allclose(forecast.values[:, :, 0], 50.0, rtol=1e-6)
    assert (forecast.values[:, :, 1] == 0).all()


def test_holidays_come_from_the_country_calendar() -> None:
    stamps = pd.DatetimeIndex(["2026-12-25T10:00Z", "2026-12-28T10:00Z", "2026-07-04T00:00Z"])
    assert holiday_flags(stamps, "US").tolist() == [1.0, 0.0, 1.0]
    assert holiday_flags(stamps, None).tolist() == [0.0, 0.0, 0.0]
