"""The simulator's CIM twin: deterministic under its seed, wired phase by phase, and drawn without
disturbing the simulator's own random stream."""

from collections import defaultdict

from data_engineering.simulation.phases import meter_phases
from data_engineering.twin import ontology as o
from data_engineering.twin.cim import STANDARD_KVA, rated_kva
from tests.twin.conftest import simulated_twin, simulator


def _by_model(twin, model):
    return {n.dt_id: n.properties for n in twin.nodes if n.model == model}


def _targets(twin, name):
    out = defaultdict(set)
    for r in twin.relationships:
        if r.name == name:
            out[r.source].add(r.target)
    return out


def test_same_seed_same_twin_other_seed_other_phases(grid):
    first, again, other = (simulated_twin(simulator(grid, seed)) for seed in (5, 5, 6))
    assert first == again
    assert _by_model(first, o.USAGE_POINT) != _by_model(other, o.USAGE_POINT)


def test_phases_come_from_their_own_stream(sim):
    before = sim.rng.bit_generator.state
    meter_phases(sim.fleet, sim.config.seed)
    assert sim.rng.bit_generator.state == before


def test_every_class_is_present_and_linked_both_ways(twin, sim):
    counts = {m: len(_by_model(twin, m)) for m in (o.SUBSTATION, o.FEEDER, o.POWER_TRANSFORMER, o.POLE,
                                                  o.USAGE_POINT, o.METER)}
    assert counts[o.METER] == counts[o.USAGE_POINT] == sim.fleet.n_meters
    assert counts[o.POWER_TRANSFORMER] == counts[o.POLE] == len(sim.fleet.pole_ids)
    assert counts[o.FEEDER] == len(sim.fleet.feeder_ids)
    assert counts[o.SUBSTATION] == len(set(sim.fleet.feeder_bus.tolist()))
    feeds = {(r.source, r.target) for r in twin.relationships if r.name == "feedsTo"}
    fed = {(r.target, r.source) for r in twin.relationships if r.name == "fedBy"}
    assert feeds == fed and feeds


def test_phases_and_ratings_follow_the_meters(twin):
    points = _by_model(twin, o.USAGE_POINT)
    for up in points.values():
        expected = {"residential": ("A", "B", "C")}.get(up["connectionCategory"], ("ABC",))
        assert up["phaseCode"] in expected and up["phaseCount"] == len(up["phaseCode"])
    assert {up["phaseCode"] for up in points.values()} >= {"A", "B", "C"}
    feeds = _targets(twin, "feedsTo")
    for xf, props in _by_model(twin, o.POWER_TRANSFORMER).items():
        served = [points[up] for up in feeds[xf]]
        assert set(props["phases"]) == set("".join(up["phaseCode"] for up in served))
        assert props["ratedKva"] == rated_kva(sum(up["meanLoadKw"] for up in served))


def test_rating_is_a_standard_size_above_the_peak():
    assert rated_kva(0.0) == STANDARD_KVA[0]
    assert rated_kva(10.0) == 37.5  # 10 kW x 2.5 / 0.9 = 27.8 kVA
    assert rated_kva(1e6) == STANDARD_KVA[-1]
