"""Retrain the fault detectors on the labelled history, score them on its later part they did not
see, store each version with those metrics, and score the latest window into `anomaly_events`.

The held-out part is the last `held_out` of the window, cut on a window boundary: the same split
bench/anomaly.py makes across periods, inside one stored history. Events come from the newest
gradient-boosting version (the detector that does best held out, README "Anomaly detection"); the
forest and the rules are stored for their metrics, the yardstick a version is read against.
"""

from __future__ import annotations

import pickle
import uuid
from datetime import datetime, timedelta

import pandas as pd

from data_engineering.analytics.anomaly import dataset, holdout, stored
from data_engineering.analytics.anomaly.features import Windowing
from data_engineering.contracts.anomaly import AnomalyEvent, AnomalyModel
from data_engineering.storage.anomaly import latest_model, write_events, write_model
from data_engineering.storage.database import Database

HELD_OUT = 1 / 3
SCORED = "hgb"
CONTEXT = timedelta(hours=1)  # history read with the window scored: the per-target medians need it
WINDOWING = Windowing()


def _period(db: Database, start: datetime, end: datetime, w: Windowing) -> dataset.Period:
    return dataset.build(*stored.frames(db, start, end), w)


def split(start: datetime, end: datetime, held_out: float, window_s: int) -> datetime:
    cut = pd.Timestamp(start + (end - start) * (1 - held_out)).floor(f"{window_s}s").to_pydatetime()
    if not start < cut < end:
        raise ValueError(f"[{start}, {end}) is too short to hold out {held_out:.0%} of it")
    return cut


def retrain(db: Database, start: datetime, end: datetime, seed: int = 0, held_out: float = HELD_OUT,
            w: Windowing = WINDOWING) -> dict[str, str]:
    """Detector → the model id of its new version."""
    cut = split(start, end, held_out, w.window_s)
    train, test = _period(db, start, cut, w), _period(db, cut, end, w)
    detectors = holdout.fit(train, seed)
    results = holdout.metrics(test, detectors, w.window_s)
    learned = tuple(f for d in detectors for f in d.features)
    ids = {name: f"{name}-{uuid.uuid4().hex[:12]}" for name in holdout.DETECTORS}
    with db.transaction() as conn:
        for name, model_id in ids.items():
            write_model(conn, AnomalyModel(model_id, name, start, cut, cut, end, seed,
                                           () if name == "rules" else learned, results[name],
                                           pickle.dumps(detectors) if name == SCORED else None))
    return ids


def score_latest(db: Database, end: datetime, w: Windowing = WINDOWING) -> int:
    """Flag the last whole window before `end` with the newest scored version; the number of events
    written (none before a first training)."""
    with db.connect() as conn:
        found = latest_model(conn, SCORED)
    if found is None:
        return 0
    model, _ = found
    detectors = pickle.loads(model.artifact)  # noqa: S301 - written by retrain() above, into our own database
    last = pd.Timestamp(end).floor(f"{w.window_s}s") - pd.Timedelta(seconds=w.window_s)
    period = _period(db, last.to_pydatetime() - CONTEXT, last.to_pydatetime() + timedelta(seconds=w.window_s), w)
    events = []
    for part, detector, target_kind in zip((period.transformers, period.meters), detectors,
                                           ("transformer", "meter"), strict=True):
        latest = part.x[part.x["window"] == last]
        if latest.empty:
            continue
        probability = detector.probabilities(latest)
        for kind in probability.columns:
            hit = probability[kind] > holdout.THRESHOLD
            events += [AnomalyEvent(last.to_pydatetime(), (last + pd.Timedelta(seconds=w.window_s)).to_pydatetime(),
                                    target_kind, target, model.model_id, kind, float(p))
                       for target, p in zip(latest.loc[hit, part.key], probability.loc[hit, kind], strict=True)]
    with db.transaction() as conn:
        write_events(conn, events)
    return len(events)
