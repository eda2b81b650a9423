"""The short fault soak: three workers in one group on four partitions, fed at a fixed rate, while
workers are killed (SIGKILL) and restarted, poison arrives from librdkafka, PostgreSQL crashes, the
lake is away for 20 s and Airflow is a closed port. Nothing may be lost or doubled."""

from __future__ import annotations

import json

import pytest

from data_engineering.ingestion.soak import Soak, SoakPlan


@pytest.mark.slow
def test_the_ingest_path_survives_every_fault_with_nothing_lost_or_doubled(tmp_path, kafka_bootstrap):
    soak = Soak(SoakPlan.short(), tmp_path / "soak", kafka_bootstrap=kafka_bootstrap)
    result = soak.run()
    print(json.dumps(result))
    assert result["unexpected_exits"] == 0, soak.unexpected_exit_logs
    assert result["lost"] == 0 and result["unexpected"] == 0, result
    assert result["sent"] == result["stored"] + result["dead_lettered"]
    assert result["duplicated_db"] == 0 and result["duplicated_lake"] == 0
    assert result["lake_equals_db"] and result["pending_lake_objects"] == 0
    assert result["dead_letter_reasons_as_expected"], result["dead_letter_reasons"]
    assert result["drained"] and result["exit_codes"] == [0, 0, 0]  # SIGTERM: flushed, committed, left
    kinds = {f["name"].split()[0] for f in result["faults"]}
    assert {"kill", "PostgreSQL", "lake"} <= kinds and all(f["recovered_s"] is not None for f in result["faults"])
    assert result["worker_starts"] > 3  # killed workers came back and were given partitions
    assert result["reopt_launch_failures_logged"] > 0  # the trigger fired into a closed port all along
