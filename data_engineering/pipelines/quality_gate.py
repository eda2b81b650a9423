"""The quality gate as pipelines use it: suites run on in-memory batches, the result stored (rows
in PostgreSQL, Data Docs in the lake) before a failure is raised."""

from __future__ import annotations

import uuid
from datetime import datetime

from data_engineering.pipelines.metrics_push import push_gauges
from data_engineering.runtime import Platform
from data_engineering.storage.quality import store_quality_run, write_docs
from data_engineering.validation.gate import QualityGateFailed, run_gate
from data_engineering.validation.suites import QualityLimits

# Limits read from the setting of the same name with a `quality_` prefix.
SAME_NAME = ("voltage_mostly", "frequency_band_hz", "flatline_readings", "flatline_mostly", "near_zero_kw",
             "near_zero_mw", "completeness_min", "completeness_mostly", "max_gap_s", "max_seq_gap", "scada_max_gap_s")


def quality_limits(platform: Platform) -> QualityLimits:
    """The bands and fault limits the settings give (`QUALITY_*`, nominal frequency)."""
    s = platform.settings
    return QualityLimits(nominal_frequency_hz=s.nominal_frequency_hz, nominal_voltage_v=s.nominal_voltage_v,
                         voltage_band_pu=(s.quality_voltage_min_pu, s.quality_voltage_max_pu),
                         **{name: getattr(s, f"quality_{name}") for name in SAME_NAME})


def gate(platform: Platform, run_key: str, batches: list, window: tuple[datetime | None, datetime | None],
         quality_run_id: uuid.UUID, pipeline: str) -> uuid.UUID:
    """Run the suites, store the result and Data Docs, raise `QualityGateFailed` if any failed."""
    result = run_gate(batches, quality_run_id)
    docs_key = write_docs(platform.lake, pipeline, result)
    with platform.db.transaction() as conn:
        store_quality_run(conn, result, pipeline, run_key, window, docs_key)
    push_gauges(platform.settings.pushgateway_url, "lascopf_quality_gate", [
        ("lascopf_quality_gate_passed", "1 if the last gate run passed", result.success),
        ("lascopf_quality_failed_expectations", "expectations that failed in the last gate run",
         len(result.failures))], {"pipeline": pipeline})
    if not result.success:
        raise QualityGateFailed(result, docs_key)
    return result.quality_run_id
