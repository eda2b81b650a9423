"""Simulator → Kafka → ingest worker → PostgreSQL + S3 lake, on real servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import orjson
import pandas as pd
import pytest
from kafka import KafkaConsumer

from data_engineering.contracts.telemetry import telemetry_sources
from data_engineering.embedded.s3 import ACCESS_KEY, SECRET_KEY
from data_engineering.simulation.engine import Disturbance
from tests.helpers import lake_table, run_worker, send_raw, simulate_to_kafka, small_config, stored

KEY = ["meter_id", "seq"]


def test_two_meters_two_minutes_exact_counts_and_lake_equals_rows(database, kafka_bootstrap, topic_prefix, lake):
    sag = Disturbance("sag", start_s=40, duration_s=6, magnitude_pu=0.7, pole_id="p-00000")
    report = simulate_to_kafka(kafka_bootstrap, small_config(topic_prefix, disturbances=(sag,)))
    assert report.readings_delivered == 2 * 120

    stats, worker = run_worker(kafka_bootstrap, topic_prefix, database, lake)

    rows = stored(database, "SELECT * FROM ami_readings ORDER BY meter_id, seq")
    assert len(rows) == 240
    assert rows.groupby("meter_id").seq.apply(list).to_dict() == {m: list(range(120)) for m in ("m-000000", "m-000001")}
    assert stats.records == 240 + report.scada_records + report.weather_records + report.phase_records
    assert stored(database, "SELECT count(*) AS n FROM scada_measurements").n[0] == report.scada_records
    phases = stored(database, "SELECT point_kind, is_simulation FROM phase_measurements")
    assert len(phases) == report.phase_records == 24 * 2 and phases.is_simulation.all()  # a transformer, a head
    assert lake_table(lake, "phases").num_rows == report.phase_records
    assert stored(database, "SELECT count(*) AS n FROM weather_observations").n[0] == report.weather_records
    assert stored(database, "SELECT count(*) AS n FROM dead_letters").n[0] == 0
    assert worker.metrics.value("lascopf_ingest_records_total", source="ami") == 240

    # The injected sag: 6 one-second samples at 0.7 pu on both meters of pole p-00000, flagged.
    sagged = rows[rows.voltage_v < 0.9 * 240]
    assert len(sagged) == 12
    assert sorted(sagged.seq.unique()) == list(range(40, 46))
    assert sagged.voltage_v.between(0.65 * 240, 0.75 * 240).all()
    assert all(list(flags) == ["voltage_sag"] for flags in sagged.quality_flags)
    assert rows[rows.voltage_v >= 0.9 * 240].quality_flags.isna().all()

    # The lake holds exactly the stored rows.
    archived = lake_table(lake, "ami").to_pandas().drop(columns=["date", "hour"], errors="ignore")
    assert set(archived.columns) == set(rows.columns)
    archived = archived[rows.columns].sort_values(KEY).reset_index(drop=True)
    archived["quality_flags"] = archived.quality_flags.map(lambda v: None if v is None else list(v))
    rows["quality_flags"] = rows.quality_flags.map(lambda v: None if v is None else list(v))
    pd.testing.assert_frame_equal(archived, rows, check_dtype=False)
    assert set(stored(database, "SELECT status FROM lake_objects").status) == {"written"}


def test_bad_records_are_dead_lettered_and_duplicates_absorbed(database, kafka_bootstrap, topic_prefix, lake):
    topic = telemetry_sources(topic_prefix)["ami"].topic
    good = {"event_ts": "2026-11-21T12:00:00Z", "meter_id": "m-1", "pole_id": "p-1", "seq": 0, "voltage_v": 239.5,
            "current_a": 4.2, "power_kw": 0.95, "network_profile": "wired"}
    batch = {"gateway_id": "gw-p-1", "pole_id": "p-1", "network_profile": "5g", "readings": [
        {**good, "seq": 1, "event_ts": "2026-11-21T12:00:01Z"},
        {**good, "seq": 2, "event_ts": "2026-11-21T12:00:02Z", "voltage_v": 9999.0},  # out of range
        {**good, "seq": 3, "event_ts": "2026-11-21T12:00:03Z", "meter_id": None},  # invalid value
        {k: v for k, v in good.items() if k != "power_kw"} | {"seq": 4},  # missing field
        {**good, "seq": 1, "event_ts": "2026-11-21T12:00:01.000Z"},  # duplicate inside the batch
    ]}
    send_raw(kafka_bootstrap, topic, [
        orjson.dumps(good), orjson.dumps(good),  # duplicate messages
        b"{not json", b"[1, 2]", b"",
        orjson.dumps({**good, "seq": -5}),
        orjson.dumps(batch),
    ])
    stats, worker = run_worker(kafka_bootstrap, topic_prefix, database, lake)

    rows = stored(database, "SELECT meter_id, seq, network_profile, gateway_id FROM ami_readings ORDER BY seq")
    assert rows.seq.tolist() == [0, 1]
    assert rows.network_profile.tolist() == ["wired", "wired"]  # the record's own value wins over the envelope
    assert rows.gateway_id.tolist()[1] == "gw-p-1"
    letters = stored(database, "SELECT reason, item, payload FROM dead_letters ORDER BY kafka_offset, item")
    assert letters.reason.tolist() == ["invalid_json", "not_an_object", "empty_message", "out_of_range",
                                       "out_of_range", "invalid_value", "missing_field"]
    assert bytes(letters.payload[0]) == b"{not json"
    assert orjson.loads(bytes(letters.payload[4]))["voltage_v"] == 9999.0
    assert stats.rejected == 7 and stats.duplicates == 2
    assert worker.metrics.value("lascopf_ingest_rejected_total", source="ami", reason="out_of_range") == 2
    assert worker.metrics.value("lascopf_ingest_duplicates_total", source="ami") == 2

    # The dead-letter topic carries the same records, with the reason in a header.
    consumer = KafkaConsumer(topic + ".dlq", bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=3000)
    reasons = sorted(dict(m.headers)["reason"].decode() for m in consumer)
    consumer.close()
    assert reasons == sorted(letters.reason.tolist())

    # Replaying the same messages into a new consumer group changes nothing.
    again, _ = run_worker(kafka_bootstrap, topic_prefix, database, lake, group_id=f"{topic_prefix}replay")
    assert again.records == 0 and again.duplicates == 4
    assert stored(database, "SELECT count(*) AS n FROM ami_readings").n[0] == 2
    assert stored(database, "SELECT count(*) AS n FROM dead_letters").n[0] == 7
    assert lake_table(lake, "ami").num_rows == 2


@pytest.mark.slow
def test_worker_killed_mid_stream_loses_and_doubles_nothing(database, kafka_bootstrap, topic_prefix, lake,
                                                          s3_server):
    report = simulate_to_kafka(kafka_bootstrap, small_config(topic_prefix, n_meters=20, duration_s=300,
                                                             ideal_backhaul=False, missing_prob=0.01))
    env = os.environ | {
        "DATABASE_URL": database.url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "KAFKA_TOPIC_PREFIX": topic_prefix,
        "KAFKA_CONSUMER_GROUP": f"{topic_prefix}ingest", "LAKE_URL": lake.url, "S3_ENDPOINT": s3_server.endpoint,
        "S3_ACCESS_KEY": ACCESS_KEY, "S3_SECRET_KEY": SECRET_KEY, "INGEST_BATCH_ROWS": "100",
        "INGEST_MAX_POLL_RECORDS": "3", "INGEST_LINGER_MS": "50", "KAFKA_MAX_POLL_INTERVAL_MS": "5000",
        "KAFKA_SESSION_TIMEOUT_MS": "6000", "KAFKA_PARTITIONS": "2",
    }
    command = [sys.executable, "-m", "data_engineering.cli", "ingest", "--idle-exit", "3"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    count = 0
    while time.monotonic() < deadline:
        count = stored(database, "SELECT count(*) AS n FROM ami_readings").n[0]
        if count >= 1000:
            break
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert 0 < count < report.readings_delivered, "the worker must be killed mid-stream"

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr[-2000:]

    rows = stored(database, "SELECT meter_id, seq FROM ami_readings")
    assert len(rows) == report.readings_delivered
    assert not rows.duplicated().any()
    assert set(stored(database, "SELECT status FROM lake_objects").status) == {"written"}
    archived = lake_table(lake, "ami").select(KEY).to_pandas()
    assert len(archived) == report.readings_delivered
    assert not archived.duplicated().any()
