"""A trained detector version and the windows it flags, as they cross into `anomaly_models` and
`anomaly_events` (sql/017)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AnomalyModel:
    model_id: str
    detector: str  # rules | iforest | hgb
    train_start: datetime
    train_end: datetime
    test_start: datetime
    test_end: datetime
    seed: int
    features: tuple[str, ...]
    metrics: dict[str, Any] = field(default_factory=dict)
    artifact: bytes | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class AnomalyEvent:
    window_start: datetime
    window_end: datetime
    target_kind: str  # transformer | meter
    target_id: str
    model_id: str
    predicted_kind: str  # '' when the detector does not name a fault (the forest)
    score: float
    is_simulation: bool = True
