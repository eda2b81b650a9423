"""Voltage sag detection (gaps and islands per meter, `sql/analytics/detect_voltage_sags.sql`)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

from data_engineering.analytics.queries import query
from data_engineering.storage.database import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SagRule:
    """A sag: below `threshold_pu` of nominal for at least `min_duration_s`, where each sample
    stands for `sample_s` seconds (the meters' sampling interval)."""

    threshold_pu: float = 0.9
    min_duration_s: float = 5.0
    sample_s: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.threshold_pu <= 1.0 or self.min_duration_s <= 0 or self.sample_s <= 0:
            raise ValueError(f"invalid sag rule {self}: need 0 < threshold_pu <= 1 and positive durations")


def detect_sags(db: Database, start: datetime, end: datetime, rule: SagRule = SagRule()) -> int:
    """Upsert the sag events that begin in [start, end); returns how many were written."""
    with db.transaction() as conn:
        n = conn.execute(query("detect_voltage_sags"), {"start": start, "end": end, **asdict(rule)}).rowcount
    log.info("voltage sags in %s → %s (< %.2f pu for >= %.0f s): %d events", start.isoformat(), end.isoformat(),
             rule.threshold_pu, rule.min_duration_s, n)
    return n
