"""Train on one period, score another: the detectors' flags and their metrics per kind, shared by
the bench and the retraining pipeline so both report the same numbers."""

from __future__ import annotations

import math

import pandas as pd

from data_engineering.analytics.anomaly import evaluate, rules
from data_engineering.analytics.anomaly.dataset import Part, Period
from data_engineering.analytics.anomaly.models import Detector

DETECTORS = ("rules", "iforest", "hgb")
THRESHOLD = 0.5  # a classifier flags a kind above this probability


def fit(train: Period, seed: int) -> tuple[Detector, Detector]:
    """(transformer windows' detector, meter windows')."""
    return tuple(Detector(p.features, p.kinds, seed).fit(p.x, p.y) for p in (train.transformers, train.meters))


def flags(part: Part, detector: Detector, name: str) -> pd.DataFrame:
    if name == "rules":
        return rules.flags(part.x, part.kinds)
    if name == "iforest":
        return pd.DataFrame({"any": detector.forest_flags(part.x)}, index=part.x.index)
    return detector.probabilities(part.x) > THRESHOLD


def _json(values: dict) -> dict:
    """NaN (no fault of a kind, or none detected to time) as null: the metrics are stored as JSON."""
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in values.items()}


def metrics(test: Period, detectors: tuple[Detector, Detector], window_s: int) -> dict[str, dict[str, dict]]:
    """detector → kind → precision, recall, f1, delay_s, faults and `bands` (recall and delay per
    severity third); null where undefined."""
    out: dict[str, dict[str, dict]] = {name: {} for name in DETECTORS}
    for part, detector in zip((test.transformers, test.meters), detectors, strict=True):
        for name in DETECTORS:
            scores, events = evaluate.score(part.y, part.key, flags(part, detector, name), test.targets,
                                            part.kinds, window_s)
            bands = evaluate.by_band(events)
            for kind, s in scores.items():
                rows = bands[bands["kind"] == kind].set_index("band")
                out[name][kind] = _json(s.__dict__) | {"bands": {
                    b: _json(rows.loc[b, ["faults", "recall", "delay_s"]].to_dict())
                    for b in evaluate.BANDS if b in rows.index}}
    return out
