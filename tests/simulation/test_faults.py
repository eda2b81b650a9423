"""Each fault kind changes the rows it should, and only those; the labels say what was injected."""

import numpy as np
import orjson
import pytest

from data_engineering.simulation.faults import KINDS, Fault, fault_labels, random_faults
from data_engineering.simulation.phases import meter_phases
from tests.simulation.streams import START, seconds, simulate

WINDOW = (40.0, 40.0)  # start, duration of every fault below: [40 s, 80 s) of a 120 s run
POLE, XF = "p-00003", "xf-p-00003"


def _fault(kind: str, target_kind: str, target_id: str, severity: float, **kw: object) -> Fault:
    return Fault(kind, target_kind, target_id, *WINDOW, severity, **kw)


def _inside(ts: str) -> bool:
    return WINDOW[0] <= seconds(ts) < sum(WINDOW)


def _changed(before: dict, after: dict) -> set:
    """Keys whose record differs (or is missing on one side)."""
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def _diff(grid, baseline, fault: Fault):  # noqa: ANN202 - (run, changed AMI keys, changed phase keys)
    run = simulate(grid, faults=(fault,))
    return run, _changed(baseline.ami, run.ami), _changed(baseline.phases, run.phases)


def _meters_on(baseline, pole: str) -> set[str]:
    f = baseline.sim.fleet
    return {m for m, p in zip(f.meter_ids, f.meter_pole, strict=True) if f.pole_ids[p] == pole}


def test_phase_loss_zeroes_that_phase_at_the_transformer_and_its_meters(grid, baseline):
    codes = meter_phases(baseline.sim.fleet, baseline.sim.config.seed)
    on_pole = _meters_on(baseline, POLE)
    phase = next(codes[m] for m in sorted(on_pole) if len(codes[m]) == 1)
    run, ami, phases = _diff(grid, baseline, _fault("phase_loss", "transformer", XF, 1.0, phase=phase))
    assert ami and {m for m, _ in ami} <= on_pole and all(_inside(run.ami[k]["event_ts"]) for k in ami)
    lost = {m for m in on_pole if codes[m] == phase}
    for k in ami:
        r, before = run.ami[k], baseline.ami[k]
        if k[0] in lost:
            assert r["voltage_v"] == 0.0 and r["power_kw"] == 0.0
        else:  # a three-phase customer: the mean of its phases, two thirds of its load
            assert codes[k[0]] == "ABC"
            assert (r["voltage_v"], r["power_kw"]) == pytest.approx((before["voltage_v"] * 2 / 3,
                                                                     before["power_kw"] * 2 / 3), abs=0.02)
    x = phase.lower()
    feeder = run.phases[(XF, baseline.phases[(XF, "2026-11-21T18:00:00.000Z")]["ts"])]["feeder_id"]
    assert {p for p, _ in phases} == {XF, feeder} and all(_inside(ts) for _, ts in phases)
    for (point, ts) in phases:
        r = run.phases[(point, ts)]
        if point == XF:
            assert r[f"v_{x}_v"] < 2.0 and abs(r[f"p_{x}_kw"]) < 0.05 and "phase_loss" in r["quality_flags"]
            assert all(r[f"v_{y}_v"] > 200 for y in "abc" if y != x)


def test_tamper_drops_the_meter_power_while_the_transformer_load_stays(grid, baseline):
    meter = sorted(_meters_on(baseline, POLE))[0]
    run, ami, phases = _diff(grid, baseline, _fault("meter_tamper", "meter", meter, 0.5))
    assert {m for m, _ in ami} == {meter} and all(_inside(run.ami[k]["event_ts"]) for k in ami)
    for k in ami:
        assert run.ami[k]["power_kw"] == pytest.approx(baseline.ami[k]["power_kw"] * 0.5, abs=1e-3)
    assert not phases  # the transformer still measures the whole load


def test_flatline_repeats_the_first_sample(grid, baseline):
    meter = sorted(_meters_on(baseline, POLE))[1]
    run, ami, phases = _diff(grid, baseline, _fault("meter_flatline", "meter", meter, 1.0))
    stuck = [r for r in run.ami.values() if r["meter_id"] == meter and _inside(r["event_ts"])]
    assert len({(r["power_kw"], r["voltage_v"], r["current_a"]) for r in stuck}) == 1 and len(stuck) == 40
    assert {m for m, _ in ami} == {meter} and not phases


def _ami_of_others(run) -> list:  # noqa: ANN001 - a Run
    return [(d.key, d.value, d.arrival_s) for d in run.deliveries
            if d.topic == "ami.readings" and d.key != POLE.encode()]


def test_comm_loss_silences_the_gateway_and_nothing_else(grid):
    lossy = dict(ideal_backhaul=False, missing_prob=0.01)
    before = simulate(grid, **lossy)
    run = simulate(grid, faults=(_fault("comm_loss", "gateway", f"gw-{POLE}", 1.0),), **lossy)
    sent = [orjson.loads(d.value) for d in run.deliveries if d.topic == "ami.readings"]
    assert not [b for b in sent if b["pole_id"] == POLE and _inside(b["sent_ts"])]
    assert not [k for k in run.phases if k[0] == XF and _inside(k[1])]
    assert _ami_of_others(run) == _ami_of_others(before)  # the other gateways' draws are untouched
    assert _changed(before.phases, run.phases) == {k for k in before.phases if k[0] == XF and _inside(k[1])}
    assert run.sim.report.readings_dropped > before.sim.report.readings_dropped


@pytest.mark.parametrize("target_kind,target_id", [("transformer", XF), ("feeder", "f-001")])
def test_a_sag_lowers_the_voltage_below_its_target_only(grid, baseline, target_kind, target_id):
    run, ami, phases = _diff(grid, baseline, _fault("voltage_sag", target_kind, target_id, 0.3))
    f = baseline.sim.fleet
    below = (_meters_on(baseline, POLE) if target_kind == "transformer" else
             {m for m, p in zip(f.meter_ids, f.meter_pole, strict=True) if f.feeder_ids[f.pole_feeder[p]] == target_id})
    assert {m for m, _ in ami} == below
    for k in ami:
        assert run.ami[k]["voltage_v"] == pytest.approx(baseline.ami[k]["voltage_v"] * 0.7, abs=0.02)
    assert all(_inside(ts) for _, ts in phases)


def _nema(r: dict, quantity: str, unit: str) -> float:
    values = np.array([r[f"{quantity}_{x}_{unit}"] for x in "abc"])
    return float(np.max(np.abs(values - values.mean())) / values.mean())


def test_unbalance_shows_as_nema_voltage_unbalance_at_the_transformer(grid, baseline):
    run, ami, phases = _diff(grid, baseline, _fault("phase_unbalance", "transformer", XF, 0.06, phase="B"))
    assert {m for m, _ in ami} <= _meters_on(baseline, POLE)
    inside = [run.phases[k] for k in phases if k[0] == XF]
    assert len(inside) == 8 and all(_nema(r, "v", "v") == pytest.approx(0.06, abs=0.01) for r in inside)
    assert all(_nema(baseline.phases[k], "v", "v") < 0.01 for k in phases if k[0] == XF)


def test_overload_loads_the_transformer_to_the_severity(grid, baseline):
    pole = baseline.sim.fleet.pole_ids.index(POLE)
    run, ami, phases = _diff(grid, baseline, _fault("transformer_overload", "transformer", XF, 1.3))
    assert ami and {m for m, _ in ami} <= _meters_on(baseline, POLE)
    for r in (run.phases[k] for k in phases if k[0] == XF):
        load = sum(np.hypot(r[f"p_{x}_kw"], r[f"q_{x}_kvar"]) for x in "abc")
        assert load / baseline.sim.transformer_kva[pole] == pytest.approx(1.3 * 1.04, rel=0.04)
        assert "overload" in r["quality_flags"]


def test_frequency_excursion_shifts_every_stream(grid, baseline):
    run, ami, phases = _diff(grid, baseline, _fault("frequency_excursion", "system", "system", 0.5, direction=-1))
    assert all(_inside(run.ami[k]["event_ts"]) for k in ami) and len(ami) == 80 * 40
    for k in ami:
        assert run.ami[k]["freq_hz"] == pytest.approx(baseline.ami[k]["freq_hz"] - 0.5, abs=1e-3)
    for k in phases:
        assert run.phases[k]["freq_hz"] == pytest.approx(baseline.phases[k]["freq_hz"] - 0.5, abs=1e-3)


def test_labels_match_what_was_injected_and_the_same_seed_gives_the_same_faults(grid):
    run = simulate(grid, random_faults_per_hour=300.0, duration_s=60)
    faults = run.sim.report.faults
    again = random_faults(run.sim.fleet, 5, 60, 300.0)
    assert faults == again and faults != random_faults(run.sim.fleet, 6, 60, 300.0)
    assert len({f.kind for f in faults}) > 3
    labels = fault_labels(faults, START, 5)
    for fault, label in zip(faults, labels, strict=True):
        spec = KINDS[label.kind]
        assert (label.kind, label.target_kind, label.target_id, label.severity) == (
            fault.kind, fault.target_kind, fault.target_id, fault.severity)
        assert spec.severity[0] <= label.severity <= spec.severity[1] and label.is_simulation
        assert (label.end_ts - label.start_ts).total_seconds() == pytest.approx(fault.duration_s)
    assert len({label.fault_id for label in labels}) == len(labels)


@pytest.mark.parametrize("bad", [
    dict(kind="voltage_sag", target_kind="meter"), dict(severity=0.6), dict(kind="phase_loss", severity=1.0),
    dict(kind="phase_unbalance", severity=0.05, phase="AB"), dict(duration_s=0),
])
def test_a_fault_outside_its_kind_is_refused(bad):
    with pytest.raises(ValueError):
        Fault(**({"kind": "voltage_sag", "target_kind": "transformer", "target_id": XF, "start_s": 0,
                  "duration_s": 1, "severity": 0.1} | bad))
