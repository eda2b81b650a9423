"""Held-out metrics per fault kind and severity band.

- precision: of the windows a detector flags for a kind, the share that overlap a fault of that
  kind on that target (window level: a false alarm has no fault, so no severity either);
- recall: of the faults, the share with at least one overlapping window flagged (event level: a
  feeder sag counts once, however many transformers it reaches);
- delay: from a fault's onset to the end of its first flagged window (when the verdict exists),
  median over the faults detected.
An unsupervised detector flags "something": its flags count for any kind, and its precision is
over any fault.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data_engineering.contracts.faults import FaultLabel
from data_engineering.simulation.faults import KINDS

BANDS = ("low", "mid", "high")


def severity_band(kind: str, severity: float) -> str:
    """Thirds of the kind's severity range; kinds with a single severity are all "high"."""
    lo, hi = KINDS[kind].severity
    if hi <= lo:
        return "high"
    return BANDS[min(2, int(3 * (severity - lo) / (hi - lo)))]


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    delay_s: float
    faults: int


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def _windows_of(start: pd.Timestamp, end: pd.Timestamp, window_s: int) -> pd.DatetimeIndex:
    return pd.date_range(start.floor(f"{window_s}s"), end, freq=f"{window_s}s", inclusive="left")


def detections(targets: pd.DataFrame, flagged: set[tuple[str, pd.Timestamp]], window_s: int) -> pd.DataFrame:
    """Per fault: whether any of its windows is in `flagged` ((entity_id, window) pairs) and the
    delay to the first one."""
    first: dict[str, float] = {}
    for t in targets.itertuples(index=False):
        for w in _windows_of(t.start_ts, t.end_ts, window_s):
            if (t.entity_id, w) in flagged:
                delay = max(0.0, (w + pd.Timedelta(seconds=window_s) - t.start_ts).total_seconds())
                first[t.fault_id] = min(first.get(t.fault_id, np.inf), delay)
                break
    faults = targets.drop_duplicates("fault_id")[["fault_id", "kind", "severity"]].copy()
    faults["duration_s"] = (targets.drop_duplicates("fault_id")["end_ts"]
                            - targets.drop_duplicates("fault_id")["start_ts"]).dt.total_seconds()
    faults["delay_s"] = faults["fault_id"].map(first)
    faults["detected"] = faults["delay_s"].notna()
    faults["band"] = [severity_band(k, s) for k, s in zip(faults["kind"], faults["severity"], strict=True)]
    return faults


def _flagged_set(keys: pd.DataFrame, key: str, mask: np.ndarray) -> set[tuple[str, pd.Timestamp]]:
    chosen = keys.loc[mask, [key, "window"]]
    return set(zip(chosen[key], chosen["window"], strict=True))


def score(labels: pd.DataFrame, key: str, flags: pd.DataFrame, targets: pd.DataFrame, kinds: tuple[str, ...],
          window_s: int) -> tuple[dict[str, Score], pd.DataFrame]:
    """Per kind `Score` and the per-fault detections. `flags` has a column per kind, or a single
    `any` column (an unsupervised detector)."""
    out, events = {}, []
    any_fault = labels[list(kinds)].any(axis=1).to_numpy()
    for kind in kinds:
        column = kind if kind in flags else "any"
        mask = flags[column].to_numpy()
        truth = any_fault if column == "any" else labels[kind].to_numpy()
        precision = float(truth[mask].mean()) if mask.any() else 0.0
        faults = detections(targets[targets["kind"] == kind], _flagged_set(labels, key, mask), window_s)
        recall = float(faults["detected"].mean()) if len(faults) else float("nan")
        out[kind] = Score(precision, recall, _f1(precision, recall), float(faults["delay_s"].median()), len(faults))
        events.append(faults)
    return out, pd.concat(events, ignore_index=True)


def by_band(events: pd.DataFrame) -> pd.DataFrame:
    """Recall and median delay per (kind, band)."""
    return (events.groupby(["kind", "band"])
            .agg(faults=("fault_id", "size"), recall=("detected", "mean"), delay_s=("delay_s", "median"))
            .reset_index())


def label_frame(labels: list[FaultLabel]) -> pd.DataFrame:
    return pd.DataFrame([{"fault_id": f.fault_id, "kind": f.kind, "target_kind": f.target_kind,
                          "target_id": f.target_id, "start_ts": pd.Timestamp(f.start_ts),
                          "end_ts": pd.Timestamp(f.end_ts), "severity": f.severity} for f in labels])
