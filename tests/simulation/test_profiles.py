"""SimBench's real-derived profiles as the simulator's load shapes: the calendar mapping, the
per-meter profiles, and the simulator's `profiles="simbench"` mode."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from data_engineering.simulation import profiles
from data_engineering.simulation.assets import CUSTOMER_CLASSES
from data_engineering.simulation.engine import SimulationConfig, Simulator


@pytest.mark.parametrize("when", [datetime(2026, 1, 1, 0, 0), datetime(2026, 3, 1, 12, 30),
                                  datetime(2027, 6, 19, 18, 45), datetime(2026, 12, 31, 23, 50)])
def test_an_instant_maps_to_the_profile_row_of_the_same_weekday_near_its_date(when: datetime) -> None:
    position = profiles.row_position(when)
    row_day = date(profiles.PROFILE_YEAR, 1, 1) + timedelta(days=int(position // 96))
    assert row_day.weekday() == when.weekday()
    same = date(profiles.PROFILE_YEAR, when.month, when.day)
    assert abs((row_day - same).days) <= (3 if 7 < same.timetuple().tm_yday < 359 else 10)
    assert position % 96 == pytest.approx((when.hour * 60 + when.minute) / 15)


def test_profiles_cover_2016_every_quarter_hour_and_are_cached() -> None:
    table = profiles.load_profiles()
    assert table.shape[0] == profiles.ROWS and table.index[0] == datetime(2016, 1, 1)
    classes = [n for names in profiles.CLASS_PROFILES.values() for n in names]
    assert set(classes) <= set(table.columns) and (table[classes] >= 0).all().all()
    assert any(p.name.startswith("simbench-") for p in profiles._cache_dir().iterdir())


def test_each_meter_follows_a_profile_of_its_class_normalised_to_its_mean() -> None:
    classes = np.array([0, 0, 1, 2, 1, 0])
    chosen = profiles.meter_profiles(list(CUSTOMER_CLASSES), classes, np.random.default_rng(3))
    np.testing.assert_allclose(chosen.values.mean(axis=0), 1.0)
    for meter, c in enumerate(classes):
        assert chosen.names[chosen.meter_profile[meter]] in profiles.CLASS_PROFILES[CUSTOMER_CLASSES[c]]
    assert 0.0 <= chosen.irradiance_wm2(datetime(2026, 6, 21, 12)) <= 1000.0
    assert chosen.irradiance_wm2(datetime(2026, 12, 21, 1)) == 0.0


def test_the_simulator_drives_its_meters_from_the_profiles_in_their_season() -> None:
    config = SimulationConfig(start=datetime(2026, 1, 14, 18, tzinfo=UTC), duration_s=10, n_meters=80,
                              profiles="simbench")
    sim, again = Simulator(config), Simulator(config)
    winter, summer = datetime(2026, 1, 14, 18, tzinfo=UTC), datetime(2026, 7, 15, 18, tzinfo=UTC)
    expected = sim.expected_kw(winter, sim.temperature_c(winter))
    np.testing.assert_array_equal(expected, again.expected_kw(winter, again.temperature_c(winter)))
    np.testing.assert_allclose(expected, sim.fleet.mean_kw * sim._profiles.at(winter))
    assert sim.temperature_c(winter).mean() < sim.temperature_c(summer).mean() - 10
    synthetic = Simulator(SimulationConfig(start=config.start, duration_s=10, n_meters=80))
    assert synthetic.fleet.meter_ids == sim.fleet.meter_ids  # the fleet is the same; only its shapes differ
    np.testing.assert_array_equal(synthetic.fleet.mean_kw, sim.fleet.mean_kw)
    assert not np.allclose(expected, synthetic.expected_kw(winter, synthetic.temperature_c(winter)))
    messages = [m for _, batch in sim.run() for m in batch]
    assert any(m.topic == "ami.readings" for m in messages)
