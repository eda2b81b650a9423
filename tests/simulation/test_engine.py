from datetime import UTC, datetime

import numpy as np
import orjson
import pytest

from data_engineering.simulation.engine import Disturbance, SimulationConfig, Simulator
from data_engineering.simulation.grid import load_reference_grid

START = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def grid():
    return load_reference_grid("case14")


def _messages(grid, **kw):
    sim = Simulator(SimulationConfig(start=START, **({"duration_s": 60, "n_meters": 40} | kw)), grid)
    return [(d.topic, d.key, d.value) for _, batch in sim.run() for d in batch], sim.report


def test_same_seed_same_bytes_other_seed_other_bytes(grid):
    first, _ = _messages(grid, seed=11)
    again, _ = _messages(grid, seed=11)
    other, _ = _messages(grid, seed=12)
    assert first == again
    assert first != other


def test_ledger_counts_what_reaches_the_broker(grid):
    messages, report = _messages(grid, duration_s=300, n_meters=200, missing_prob=0.01)
    readings = [r for t, _, v in messages if t == "ami.readings" for r in orjson.loads(v)["readings"]]
    unique = {(r["meter_id"], r["seq"]) for r in readings}
    assert report.readings_sampled == 200 * 300
    assert len(unique) == report.readings_delivered
    assert report.readings_delivered == report.readings_sampled - report.readings_missing - report.readings_dropped
    assert len(readings) - len(unique) > 0 and report.duplicate_messages > 0  # lossy links resend
    assert report.readings_missing > 0


def test_one_meter_stays_on_one_key(grid):
    messages, _ = _messages(grid, gateway_batching=False)
    keys = {}
    for topic, key, value in messages:
        if topic == "ami.readings":
            keys.setdefault(orjson.loads(value)["meter_id"], set()).add(key)
    assert keys and all(len(k) == 1 for k in keys.values())


def test_scada_is_consistent_with_the_metered_load(grid):
    messages, _ = _messages(grid, duration_s=30)
    scada = [orjson.loads(v)["measurements"] for t, _, v in messages if t == "scada.measurements"]
    assert len(scada) == 6
    for snapshot in scada:
        gen = sum(r["p_mw"] for r in snapshot if r["element_type"] == "generator")
        load = sum(r["p_mw"] for r in snapshot if r["element_type"] == "load")
        assert gen == pytest.approx(load, abs=0.05)
        # Net injection at each bus equals the flows leaving it (DC power flow).
        flows = {r["element_id"]: r["p_mw"] for r in snapshot if r["element_type"] == "branch"}
        net = {int(b): 0.0 for b in grid.bus_ids}
        for r in snapshot:
            if r["element_type"] == "generator":
                net[r["bus_id"]] += r["p_mw"]
            if r["element_type"] == "load":
                net[r["bus_id"]] -= r["p_mw"]
        for branch, p in flows.items():
            f, t = branch.split("#")[0].split("-")
            net[int(f)] -= p
            net[int(t)] += p
        assert max(abs(v) for v in net.values()) < 0.05


def test_sag_shapes_voltage_and_duration(grid):
    sag = Disturbance("sag", start_s=10, duration_s=5, magnitude_pu=0.6, pole_id="p-00001")
    sim = Simulator(SimulationConfig(start=START, duration_s=30, n_meters=12, ideal_backhaul=True, missing_prob=0,
                                     random_sags_per_hour=0, disturbances=(sag,)), grid)
    readings = [r | {"pole": orjson.loads(d.value)["pole_id"]} for _, batch in sim.run() for d in batch
                if d.topic == "ami.readings" for r in orjson.loads(d.value)["readings"]]
    low = [r for r in readings if r["voltage_v"] < 0.9 * 240]
    assert {r["pole"] for r in low} == {"p-00001"}
    assert sorted({r["seq"] for r in low}) == [10, 11, 12, 13, 14]
    assert np.allclose([r["voltage_v"] / 240 for r in low], 0.6, atol=0.02)
    assert all(r["quality_flags"] == ["voltage_sag"] for r in low)


def test_every_meter_starts_at_the_first_seq_given(grid):
    messages, report = _messages(grid, first_seq=1_000, ideal_backhaul=True, missing_prob=0.0)
    readings = [r for t, _, v in messages if t == "ami.readings" for r in orjson.loads(v)["readings"]]
    first = {}
    for r in readings:
        first[r["meter_id"]] = min(first.get(r["meter_id"], r["seq"]), r["seq"])
    assert len(first) == 40 and set(first.values()) == {1_000}
    assert max(r["seq"] for r in readings) == 1_000 + 59
