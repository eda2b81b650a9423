"""A period's features and labels, both kinds of window, from its frames: what training and
evaluation take, whether the frames come from the simulator or the database."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from data_engineering.analytics.anomaly.features import (
    METER_FEATURES,
    TRANSFORMER_FEATURES,
    Windowing,
    meter_features,
    meter_windows,
    transformer_windows,
)
from data_engineering.analytics.anomaly.labels import METER_KINDS, TRANSFORMER_KINDS, expand_targets, window_labels


@dataclass(frozen=True)
class Part:
    """One kind of window: its key column, features, kinds, and rows (features then labels)."""

    key: str
    features: tuple[str, ...]
    kinds: tuple[str, ...]
    x: pd.DataFrame
    y: pd.DataFrame


@dataclass(frozen=True)
class Period:
    transformers: Part
    meters: Part
    targets: pd.DataFrame  # one row per (fault, window target), `labels.expand_targets`
    readings: int  # meter readings and phase records the features summarise


def build(phases: pd.DataFrame, ami: pd.DataFrame, topology: pd.DataFrame, faults: pd.DataFrame,
          w: Windowing) -> Period:
    meters = meter_windows(ami, sorted(topology["meter_id"]), w)
    xf = transformer_windows(phases, meters, topology, w)
    mx = meter_features(meters, xf, topology)
    targets = expand_targets(faults, topology) if len(faults) else pd.DataFrame(
        columns=["fault_id", "entity", "entity_id", "kind", "start_ts", "end_ts", "severity"])
    return Period(
        Part("transformer_id", TRANSFORMER_FEATURES, TRANSFORMER_KINDS, xf,
             window_labels(xf, "transformer_id", targets, TRANSFORMER_KINDS, w.window_s)),
        Part("meter_id", METER_FEATURES, METER_KINDS, mx,
             window_labels(mx, "meter_id", targets, METER_KINDS, w.window_s)),
        targets, len(phases) + len(ami))
