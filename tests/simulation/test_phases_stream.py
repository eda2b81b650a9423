from collections import defaultdict

import jsonschema
import pytest

from data_engineering.contracts.telemetry import phase_measurement
from data_engineering.simulation.assets import asset_model
from data_engineering.simulation.phases import meter_phases
from data_engineering.twin.cim import cim_twin
from tests.simulation.streams import simulate


def test_every_point_reports_every_scada_interval_within_its_contract(baseline):
    fleet, schema = baseline.sim.fleet, phase_measurement().json_schema()
    records = list(baseline.phases.values())
    assert len(records) == baseline.sim.report.phase_records == 24 * (len(fleet.pole_ids) + len(fleet.feeder_ids))
    for record in records:
        jsonschema.validate(record, schema)
    assert all(r["is_simulation"] is True for r in records)
    assert {r["point_kind"] for r in records} == {"transformer", "feeder_head"}
    assert {r["point_id"] for r in records if r["point_kind"] == "transformer"} == {f"xf-{p}" for p in fleet.pole_ids}


def test_transformer_phases_sum_to_their_meters_plus_losses(baseline):
    """The docstring's tolerance: Σ P = Σ metered P × (1 + ℓ), 0 ≤ ℓ ≤ 5 %, ± 2 % + 0.05 kW."""
    metered = defaultdict(float)
    for r in baseline.ami.values():
        metered[(f"xf-{r['pole_id']}", r["event_ts"])] += r["power_kw"]
    transformers = [r for r in baseline.phases.values() if r["point_kind"] == "transformer"]
    for r in transformers:
        total, below = r["p_a_kw"] + r["p_b_kw"] + r["p_c_kw"], metered[(r["point_id"], r["ts"])]
        assert below * 0.98 - 0.05 <= total <= below * 1.07 + 0.05
    below = sum(metered[(r["point_id"], r["ts"])] for r in transformers)
    losses = sum(r["p_a_kw"] + r["p_b_kw"] + r["p_c_kw"] for r in transformers) / below - 1
    assert 0.0 < losses < 0.05


def test_feeder_heads_sum_their_transformers_plus_feeder_losses(baseline):
    transformers = defaultdict(float)
    for r in baseline.phases.values():
        if r["point_kind"] == "transformer":
            transformers[(r["feeder_id"], r["ts"])] += r["p_a_kw"] + r["p_b_kw"] + r["p_c_kw"]
    heads = [r for r in baseline.phases.values() if r["point_kind"] == "feeder_head"]
    for r in heads:
        below = transformers[(r["point_id"], r["ts"])]
        assert below * 0.98 - 0.05 <= r["p_a_kw"] + r["p_b_kw"] + r["p_c_kw"] <= below * 1.05 + 0.05


def test_a_phase_carries_its_own_customers(baseline):
    """Phase A's power at a transformer is its phase-A customers' plus a third of the three-phase ones'."""
    phases = meter_phases(baseline.sim.fleet, baseline.sim.config.seed)
    expected = defaultdict(float)
    for r in baseline.ami.values():
        code = phases[r["meter_id"]]
        share = 1.0 if code == "A" else 1 / 3 if code == "ABC" else 0.0
        expected[(f"xf-{r['pole_id']}", r["event_ts"])] += r["power_kw"] * share
    for r in baseline.phases.values():
        if r["point_kind"] == "transformer":
            assert r["p_a_kw"] == pytest.approx(expected[(r["point_id"], r["ts"])], rel=0.07, abs=0.05)


def test_power_never_exceeds_volt_amperes_and_ratings_match_the_twin(baseline):
    fleet = baseline.sim.fleet
    for r in baseline.phases.values():
        for x in "abc":
            assert abs(r[f"p_{x}_kw"]) <= r[f"v_{x}_v"] * r[f"i_{x}_a"] / 1000 * 1.02 + 0.05
    twin = cim_twin(asset_model(fleet, baseline.sim.grid, 240.0), meter_phases(fleet, baseline.sim.config.seed))
    kva = {n.dt_id: n.properties["ratedKva"] for n in twin.nodes if "ratedKva" in n.properties}
    assert list(baseline.sim.transformer_kva) == [kva[f"xf-{p}"] for p in fleet.pole_ids]


def test_nominal_voltage_and_frequency_follow_the_config(grid):
    run = simulate(grid, duration_s=20, n_meters=20, nominal_voltage_v=230.0, nominal_frequency_hz=50.0)
    records = list(run.phases.values())
    assert all(225 < r[f"v_{x}_v"] < 240 for r in records for x in "abc")
    assert all(49.9 < r["freq_hz"] < 50.1 for r in records)


def test_turning_the_stream_off_leaves_the_other_streams_byte_for_byte(grid):
    on = simulate(grid, duration_s=30, ideal_backhaul=False, missing_prob=0.01)
    off = simulate(grid, duration_s=30, ideal_backhaul=False, missing_prob=0.01, phase_measurements=False)
    assert not off.batches("scada.phases") and on.batches("scada.phases")
    assert ([(d.topic, d.key, d.value, d.arrival_s) for d in on.deliveries if d.topic != "scada.phases"]
            == [(d.topic, d.key, d.value, d.arrival_s) for d in off.deliveries])
