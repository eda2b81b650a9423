"""The forecast scores on cases whose value is known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from data_engineering.transformation.forecast_scores import crps, pinball, score

Q = (0.1, 0.3, 0.5, 0.7, 0.9)


def test_a_point_forecast_has_a_crps_equal_to_its_absolute_error() -> None:
    truth = np.array([[[10.0, 20.0]]])
    forecast = np.repeat(np.array([[[12.0, 17.0]]])[:, None], len(Q), axis=1)
    np.testing.assert_allclose(crps(forecast, truth), [[[2.0, 3.0]]])
    np.testing.assert_allclose(pinball(forecast, truth, Q), [[[np.mean([0.9, 0.7, 0.5, 0.3, 0.1]) * 2, 1.5]]])


def test_a_sharp_and_right_forecast_scores_better_than_a_wide_one() -> None:
    rng = np.random.default_rng(0)
    truth = rng.normal(100, 5, size=(400, 1, 1))
    levels = np.array([-1.2816, -0.5244, 0.0, 0.5244, 1.2816])
    calibrated = 100 + 5 * levels[None, :, None, None] * np.ones((400, 1, 1, 1))
    wide = 100 + 25 * levels[None, :, None, None] * np.ones((400, 1, 1, 1))
    good, bad = score("calibrated", calibrated, truth, Q), score("wide", wide, truth, Q)
    assert good.crps_mw < bad.crps_mw and good.pinball_mw < bad.pinball_mw
    assert good.coverage == pytest.approx(0.8, abs=0.06) and bad.coverage > 0.99
    assert good.rcrps == pytest.approx(good.crps_mw / (truth.max() - truth.min()))


def test_mape_leaves_out_near_zero_truths() -> None:
    truth = np.array([[[100.0], [0.001]]])
    forecast = np.repeat((truth * 1.1)[:, None], len(Q), axis=1)
    assert score("x", forecast, truth, Q).mape_pct == pytest.approx(10.0)
