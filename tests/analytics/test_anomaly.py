"""The anomaly features see each injected fault in its own window, the labels map faults to the
windows that score them, and the metrics count events and delays as documented."""

from datetime import timedelta

import pandas as pd
import pytest

from data_engineering.analytics.anomaly import dataset, evaluate, rules, simulated
from data_engineering.analytics.anomaly.features import Windowing
from data_engineering.analytics.anomaly.labels import expand_targets
from data_engineering.simulation.faults import Fault, fault_labels
from data_engineering.simulation.grid import load_reference_grid
from tests.simulation.streams import START, simulate

# every fault in the third minute of a five-minute run, each on its own pole
FAULTS = (Fault("phase_loss", "transformer", "xf-p-00001", 120.0, 60.0, 0.95, phase="B"),
          Fault("comm_loss", "gateway", "gw-p-00003", 120.0, 60.0, 1.0),
          Fault("meter_flatline", "meter", "m-000020", 120.0, 60.0, 1.0),
          Fault("meter_tamper", "meter", "m-000032", 120.0, 60.0, 0.8))
FAULT_WINDOW = pd.Timestamp(START + timedelta(minutes=2))


@pytest.fixture(scope="module")
def period() -> dataset.Period:
    run = simulate(load_reference_grid("case14"), duration_s=300, faults=FAULTS)
    phases, ami = simulated.frames(run.deliveries)
    labels = evaluate.label_frame(fault_labels(list(FAULTS), START, run.sim.config.seed))
    return dataset.build(phases, ami, simulated.topology(run.sim), labels, Windowing())


def _row(part: dataset.Part, target: str, window: pd.Timestamp = FAULT_WINDOW) -> pd.Series:
    x = part.x
    return x[(x[part.key] == target) & (x["window"] == window)].iloc[0]


def test_each_fault_shows_in_its_window_and_not_the_one_before(period):
    xf, meters = period.transformers, period.meters
    before = FAULT_WINDOW - pd.Timedelta(minutes=1)
    assert _row(xf, "xf-p-00001")["v_min_pu"] < 0.1 < _row(xf, "xf-p-00001", before)["v_min_pu"]
    assert _row(xf, "xf-p-00003")["phase_records"] == 0 and _row(xf, "xf-p-00003", before)["phase_records"] == 1
    assert _row(meters, "m-000020")["repeat_share"] > 0.9 > _row(meters, "m-000020", before)["repeat_share"]
    assert _row(xf, "xf-p-00008")["p_residual"] > 0.1 > _row(xf, "xf-p-00008", before)["p_residual"]


def test_labels_mark_the_fault_windows_only(period):
    y = period.transformers.y
    lost = y[y["phase_loss"]]
    assert lost["transformer_id"].tolist() == ["xf-p-00001"] and lost["window"].tolist() == [FAULT_WINDOW]
    assert y.loc[y["comm_loss"], "transformer_id"].tolist() == ["xf-p-00003"]
    assert period.meters.y["meter_tamper"].sum() == 1


def test_the_rules_flag_what_they_should(period):
    scores, _ = evaluate.score(period.transformers.y, "transformer_id",
                               rules.flags(period.transformers.x, period.transformers.kinds), period.targets,
                               period.transformers.kinds, 60)
    assert scores["phase_loss"].recall == 1.0 and scores["comm_loss"].recall == 1.0
    assert scores["phase_loss"].precision == 1.0


def test_a_feeder_fault_labels_every_transformer_on_it():
    topology = pd.DataFrame({"meter_id": ["m1", "m2", "m3"], "transformer_id": ["x1", "x2", "x3"],
                             "feeder_id": ["f1", "f1", "f2"], "gateway_id": ["g1", "g2", "g3"]})
    faults = evaluate.label_frame(fault_labels([Fault("voltage_sag", "feeder", "f1", 0.0, 10.0, 0.2),
                                                Fault("frequency_excursion", "system", "system", 0.0, 10.0, 0.2)],
                                               START, 1))
    targets = expand_targets(faults, topology)
    assert sorted(targets.loc[targets["kind"] == "voltage_sag", "entity_id"]) == ["x1", "x2"]
    assert sorted(targets.loc[targets["kind"] == "frequency_excursion", "entity_id"]) == ["x1", "x2", "x3"]


def test_recall_counts_faults_and_delay_runs_to_the_first_flagged_window_end():
    w = [pd.Timestamp(START) + pd.Timedelta(minutes=m) for m in range(3)]
    targets = pd.DataFrame({"fault_id": ["a", "b"], "entity": "transformer", "entity_id": ["x1", "x2"],
                            "kind": "voltage_sag", "severity": [0.06, 0.35],
                            "start_ts": [w[0] + pd.Timedelta(seconds=30), w[1]], "end_ts": [w[2], w[2]]})
    labels = pd.DataFrame({"transformer_id": ["x1", "x1", "x2", "x2"], "window": [w[0], w[1], w[0], w[1]],
                           "voltage_sag": [True, True, False, True]})
    flags = pd.DataFrame({"voltage_sag": [False, True, True, False]})
    scores, events = evaluate.score(labels, "transformer_id", flags, targets, ("voltage_sag",), 60)
    assert scores["voltage_sag"] == evaluate.Score(0.5, 0.5, 0.5, 90.0, 2)
    assert events.set_index("fault_id")["band"].to_dict() == {"a": "low", "b": "high"}
