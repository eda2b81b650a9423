"""A fault's ground-truth label as it crosses from the simulator to the `fault_labels` table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class FaultLabel:
    fault_id: str
    kind: str
    target_kind: str  # system | feeder | transformer | meter | gateway
    target_id: str
    start_ts: datetime
    end_ts: datetime
    severity: float
    parameters: dict[str, Any]
    is_simulation: bool = True
