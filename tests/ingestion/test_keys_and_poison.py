"""One row per natural key, records the store refuses, gateway context and the event-time window, on
a live worker against real PostgreSQL, Kafka and S3."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from data_engineering.contracts.telemetry import telemetry_sources
from data_engineering.embedded.process import free_port
from data_engineering.ingestion.reopt import AirflowApiLauncher, BackgroundLauncher, ReoptimisationTrigger
from data_engineering.ingestion.worker import IngestWorker
from tests.helpers import lake_table, run_worker, send_raw, stored, worker_config

READING = {"event_ts": "2026-11-21T12:00:00Z", "meter_id": "m-1", "pole_id": "p-1", "seq": 0, "voltage_v": 239.5,
           "current_a": 4.2, "power_kw": 0.95, "network_profile": "wired"}


def _letters(database):
    return stored(database, "SELECT reason, item, payload, envelope, natural_key, detail FROM dead_letters"
                            " ORDER BY kafka_offset, item")


def test_a_natural_key_is_stored_once_and_other_content_is_dead_lettered(database, kafka_bootstrap, topic_prefix,
                                                                        lake):
    topic = telemetry_sources(topic_prefix)["ami"].topic
    later = READING | {"event_ts": "2026-11-21T12:00:07Z"}  # same (meter_id, seq), another event time
    other = READING | {"voltage_v": 201.0}  # same key, other value
    resent = READING | {"network_profile": "5g", "gateway_id": "gw-9"}  # transport differs, the reading does not
    send_raw(kafka_bootstrap, topic, [orjson.dumps(READING), orjson.dumps(later)])  # one batch
    run_worker(kafka_bootstrap, topic_prefix, database, lake)
    send_raw(kafka_bootstrap, topic, [orjson.dumps(other), orjson.dumps(resent), orjson.dumps(READING)])
    stats, worker = run_worker(kafka_bootstrap, topic_prefix, database, lake)

    rows = stored(database, "SELECT meter_id, seq, event_ts, voltage_v FROM ami_readings")
    assert rows.to_dict("records") == [{"meter_id": "m-1", "seq": 0, "event_ts": datetime(2026, 11, 21, 12, tzinfo=UTC),
                                        "voltage_v": 239.5}]
    letters = _letters(database)
    assert letters.reason.tolist() == ["conflicting_duplicate", "conflicting_duplicate"]
    assert [orjson.loads(p) for p in letters.payload] == [later, other]  # the new version, byte for byte
    assert all(k == {"meter_id": "m-1", "seq": 0} for k in letters.natural_key)  # finds the stored version
    assert "ingest batch" in letters.detail[0] and "2026-11-21T12:00:00" in letters.detail[0]
    assert stats.duplicates == 2 and stats.records == 0  # the re-sends are absorbed
    assert worker.metrics.value("lascopf_ingest_rejected_total", source="ami", reason="conflicting_duplicate") == 1
    assert lake_table(lake, "ami").num_rows == 1


def test_scada_measurements_with_the_same_key_and_other_values_are_dead_lettered(database, kafka_bootstrap,
                                                                                 topic_prefix, lake):
    topic = telemetry_sources(topic_prefix)["scada"].topic
    m = {"ts": "2026-11-21T12:00:00Z", "element_type": "load", "element_id": "L3", "bus_id": 3, "p_mw": 12.5,
         "quality_code": "good"}
    send_raw(kafka_bootstrap, topic, [orjson.dumps(m), orjson.dumps(m | {"p_mw": 99.0}), orjson.dumps(m)])
    stats, _ = run_worker(kafka_bootstrap, topic_prefix, database, lake)
    assert stored(database, "SELECT p_mw FROM scada_measurements").p_mw.tolist() == [12.5]
    letters = _letters(database)
    assert letters.reason.tolist() == ["conflicting_duplicate"]
    assert letters.natural_key[0] == {"element_type": "load", "element_id": "L3", "ts": "2026-11-21T12:00:00+00:00"}
    assert stats.duplicates == 1


def test_records_the_store_refuses_are_isolated_and_the_rest_written(database, kafka_bootstrap, topic_prefix, lake):
    """Whatever passes the contract but not the database (here a constraint the contract does not
    know) is found by bisecting the batch; the worker goes on."""
    with database.connect(autocommit=True) as conn:
        conn.execute("ALTER TABLE ami_readings ADD CONSTRAINT refuses_p13 CHECK (pole_id <> 'p-13')")
    topic = telemetry_sources(topic_prefix)["ami"].topic
    singles = [orjson.dumps(READING | {"meter_id": f"m-{i}", "pole_id": f"p-{i}"}) for i in range(40)]
    batch = {"gateway_id": "gw-13", "pole_id": "p-13", "network_profile": "satellite",
             "sent_ts": "2026-11-21T12:00:05Z",
             "readings": [READING | {"meter_id": "m-100", "pole_id": "p-ok"}, {**READING, "meter_id": "m-101"}]}
    batch["readings"][1].pop("pole_id")  # takes p-13 from the envelope
    send_raw(kafka_bootstrap, topic, singles + [orjson.dumps(batch)])
    stats, worker = run_worker(kafka_bootstrap, topic_prefix, database, lake, batch_rows=5_000, linger_ms=2_000)

    assert stats.records == 40  # 39 singles and the batch's good item
    assert sorted(stored(database, "SELECT meter_id FROM ami_readings").meter_id) == sorted(
        [f"m-{i}" for i in range(40) if i != 13] + ["m-100"])
    letters = _letters(database)
    assert letters.reason.tolist() == ["store_rejected", "store_rejected"]
    assert "refuses_p13" in letters.detail[0] and letters.item.tolist() == [-1, 1]
    assert orjson.loads(letters.payload[1]) == batch["readings"][1]  # the item as it was sent …
    assert orjson.loads(letters.envelope[1])["gateway_id"] == "gw-13"  # … beside its envelope
    assert worker.metrics.value("lascopf_ingest_rejected_total", source="ami", reason="store_rejected") == 2
    assert lake_table(lake, "ami").num_rows == 40


def test_a_gateway_batch_item_keeps_its_envelope_and_a_direct_feed_needs_no_profile(database, kafka_bootstrap,
                                                                                    topic_prefix, lake):
    topic = telemetry_sources(topic_prefix)["ami"].topic
    direct = {k: v for k, v in READING.items() if k != "network_profile"}
    batch = {"gateway_id": "gw-7", "pole_id": "p-7", "network_profile": "lte_m", "sent_ts": "2026-11-21T12:00:09Z",
             "readings": [READING | {"seq": 1, "current_a": -3.0}]}
    send_raw(kafka_bootstrap, topic, [orjson.dumps(direct), orjson.dumps(batch)])
    run_worker(kafka_bootstrap, topic_prefix, database, lake)
    row = stored(database, "SELECT network_profile, gateway_id FROM ami_readings")
    assert row.to_dict("records") == [{"network_profile": None, "gateway_id": None}]
    letter = _letters(database).iloc[0]
    assert letter["reason"] == "out_of_range" and letter["item"] == 0
    assert orjson.loads(letter.envelope) == {"gateway_id": "gw-7", "pole_id": "p-7", "network_profile": "lte_m",
                                             "sent_ts": "2026-11-21T12:00:09Z"}


def test_event_times_far_from_arrival_are_dead_lettered_and_create_no_partition(database, kafka_bootstrap,
                                                                                topic_prefix, lake):
    topic = telemetry_sources(topic_prefix)["ami"].topic
    now = datetime.now(UTC).replace(microsecond=0)
    stamps = [now - timedelta(minutes=5), now - timedelta(days=400), now + timedelta(days=3), now - timedelta(days=2)]
    send_raw(kafka_bootstrap, topic, [orjson.dumps(READING | {"seq": i, "event_ts": t.isoformat()})
                                      for i, t in enumerate(stamps)])
    worker = IngestWorker(worker_config(kafka_bootstrap, topic_prefix, max_lateness_s=30 * 86_400, max_lead_s=300),
                          telemetry_sources(topic_prefix), database, lake)
    stats = worker.run(idle_exit_s=2.0)
    assert stats.records == 2
    assert _letters(database).reason.tolist() == ["out_of_window", "out_of_window"]
    partitions = stored(database, "SELECT count(DISTINCT inhrelid) AS n FROM pg_inherits"
                                  " WHERE inhparent = 'ami_readings'::regclass").n[0]
    days = {(now - timedelta(minutes=5)).date(), (now - timedelta(days=2)).date()}
    assert partitions == len(days)  # only the days that received rows


def test_an_unreachable_airflow_costs_ingestion_nothing(database, kafka_bootstrap, topic_prefix, lake):
    """The trigger fires on a topology event; its launch fails against a closed port on a thread of
    its own, is counted, and is retried; every record is still stored."""
    topology = telemetry_sources(topic_prefix)["topology"].topic
    event = {"ts": "2026-11-21T12:00:00Z", "element_type": "branch", "element_id": "2-4", "in_service": False}
    send_raw(kafka_bootstrap, topology, [orjson.dumps(event)])
    worker = IngestWorker(worker_config(kafka_bootstrap, topic_prefix), telemetry_sources(topic_prefix), database,
                          lake)
    closed = AirflowApiLauncher(f"http://127.0.0.1:{free_port()}", "u", "p", timeout_s=2)
    launcher = BackgroundLauncher(closed, worker.metrics.reopt_launch_failures, backoff_s=0.1, backoff_max_s=0.2)
    worker.on_stored = ReoptimisationTrigger(launcher, deviation_pct=5, cooldown_s=0, interval=timedelta(minutes=5))
    stats = worker.run(idle_exit_s=2.0)
    launcher.close()
    assert stats.records == 1
    assert worker.metrics.value("lascopf_ingest_reopt_launch_failures_total") >= 2  # failed, retried, failed
    assert launcher.launched == []


@pytest.mark.parametrize("seq", [2**63 - 1, 0])
def test_the_largest_stored_integer_round_trips(database, kafka_bootstrap, topic_prefix, lake, seq):
    topic = telemetry_sources(topic_prefix)["ami"].topic
    send_raw(kafka_bootstrap, topic, [orjson.dumps(READING | {"seq": seq})])
    run_worker(kafka_bootstrap, topic_prefix, database, lake)
    assert stored(database, "SELECT seq FROM ami_readings").seq.tolist() == [seq]
    assert lake_table(lake, "ami").column("seq").to_pylist() == [seq]
