"""The three DAGs through Airflow's `dag.test()` against real PostgreSQL, Kafka (Tansu) and S3
(moto): what they store, that reruns change nothing, and that bad data stops a run with its report."""

from __future__ import annotations

import uuid
from datetime import timedelta

import numpy as np
import orjson
import pytest
from kafka import KafkaConsumer

from data_engineering.pipelines.airflow_local import run_dag
from data_engineering.pipelines.artifacts import execution_id
from data_engineering.pipelines.dispatch import DispatchRun, TooFewLiveIntervals, transform
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.solve import solve_lascopf
from data_engineering.storage.case_store import read_case_objects
from tests.helpers import stored
from tests.pipelines.conftest import SAG, START, World

pytestmark = pytest.mark.slow
COUNTS = ("SELECT (SELECT count(*) FROM lascopf_executions) AS executions, (SELECT count(*) FROM lascopf_dispatch)"
          " AS dispatch, (SELECT count(*) FROM lascopf_lmps) AS lmps, (SELECT count(*) FROM lascopf_flows) AS flows,"
          " (SELECT count(*) FROM lascopf_convergence) AS convergence, (SELECT count(*) FROM quality_runs) AS quality")


def test_daily_ingest_loaded_the_history_once(world: World) -> None:
    db, lake = world.platform.db, world.platform.lake
    files = stored(db, "SELECT object_key, status, rows_loaded, archived_key FROM landing_files")
    assert files.to_dict("records") == [{"object_key": world.history_key, "status": "loaded",
                                         "rows_loaded": int(files.rows_loaded[0]),
                                         "archived_key": f"archive/{world.history_key}"}]
    assert files.rows_loaded[0] > 40_000
    assert not lake.exists(world.history_key) and lake.exists(f"archive/{world.history_key}")
    again = run_dag("lascopf_daily_ingest", START + timedelta(days=1))
    assert again.ok and again.xcom["list_landing_files"] == []


def test_daily_ingest_dead_letters_bad_rows_and_rejects_implausible_files(world: World) -> None:
    db, lake, prefix = world.platform.db, world.platform.lake, world.platform.settings.landing_prefix
    good_row = "2026-11-01T00:00:00Z,load,L2,2,21.7,12.7,,,,good"
    header = "ts,element_type,element_id,bus_id,p_mw,q_mvar,vm_pu,va_deg,freq_hz,quality_code"
    bad_rows = ["2026-11-01T00:00:00Z,pump,L3,3,1.0,,,,,good", "2026-11-01T00:05:00Z,load,L3,3,1.0,,,,,unknown"]
    lake.put(f"{prefix}scada/mixed.csv", "\n".join([header, good_row, *bad_rows]).encode())
    implausible = [f"2026-11-01T00:{m:02d}:00Z,bus,{b},{b},,,1.6,0,60,good" for m in range(10) for b in (1, 2)]
    lake.put(f"{prefix}scada/implausible.csv", "\n".join([header, *implausible]).encode())
    outcome = run_dag("lascopf_daily_ingest", START + timedelta(days=2))
    assert outcome.state == "failed" and outcome.tasks["summarise"] == "failed"
    files = stored(db, "SELECT object_key, status, rows_loaded, rows_dead_lettered, quality_run_id FROM landing_files"
                       " WHERE object_key LIKE %s ORDER BY object_key", (f"{prefix}scada/%.csv",))
    implausible_row, mixed_row = files.to_dict("records")
    assert (mixed_row["status"], mixed_row["rows_loaded"], mixed_row["rows_dead_lettered"]) == ("loaded", 1, 2)
    assert (implausible_row["status"], implausible_row["rows_loaded"]) == ("rejected", 0)
    dead = stored(db, "SELECT item, reason FROM dead_letters WHERE topic = %s ORDER BY item",
                  (f"{prefix}scada/mixed.csv",))
    assert dead.item.tolist() == [1, 2] and set(dead.reason) == {"invalid_value"}
    failed = stored(db, "SELECT expectation, column_name FROM quality_results WHERE quality_run_id = %s"
                        " AND NOT success", (implausible_row["quality_run_id"],))
    assert ("expect_column_values_to_be_between", "vm_pu") in set(map(tuple, failed.to_numpy()))
    implausible_stored = "SELECT count(*) AS n FROM scada_measurements WHERE element_type = 'bus' AND vm_pu > 1.5"
    assert stored(db, implausible_stored).n[0] == 0
    assert lake.exists(f"rejected/{prefix}scada/implausible.csv")


def test_dispatch_stores_what_a_direct_solve_of_the_stored_case_gives(world: World) -> None:
    db, lake = world.platform.db, world.platform.lake
    outcome = run_dag("lascopf_dispatch", world.window_end)
    assert outcome.ok, outcome.tasks
    execution = uuid.UUID(outcome.xcom["store"])
    assert execution == execution_id(f"lascopf_dispatch/{outcome.run_id}")
    row = stored(db, "SELECT status, case_key, case_hash, quality_run_id, forecast_mape_pct, persistence_mape_pct,"
                     " contingencies FROM lascopf_executions WHERE execution_id = %s", (execution,)).iloc[0]
    assert row.status == "optimal" and row.contingencies > 30
    assert row.forecast_mape_pct < row.persistence_mape_pct
    assert stored(db, "SELECT success FROM quality_runs WHERE quality_run_id = %s", (row.quality_run_id,)).success[0]
    band = stored(db, "SELECT interval, p10_mw, p50_mw, p90_mw FROM lascopf_forecast_band WHERE execution_id = %s"
                      " ORDER BY interval", (execution,))
    assert band.interval.tolist() == list(range(1, 13)) and (band.p10_mw < band.p90_mw).all()
    scores = stored(db, "SELECT method, origins, rcrps, coverage FROM lascopf_forecast_scores WHERE execution_id = %s",
                    (execution,)).set_index("method")
    assert set(scores.index) == {"model", "persistence", "last_week"} and (scores.origins > 200).all()
    assert scores.rcrps["model"] < scores.rcrps["persistence"] and 0 < scores.coverage["model"] <= 1

    case = read_case_objects(lake, row.case_key.rsplit("/", 1)[0] + "/")
    direct = solve_lascopf(case, SolveOptions(method="admm"))
    dispatch = stored(db, "SELECT interval, gen_id, p_mw FROM lascopf_dispatch WHERE execution_id = %s",
                      (execution,)).pivot(index="interval", columns="gen_id", values="p_mw")
    np.testing.assert_allclose(dispatch[list(case.generators.names)].to_numpy(), direct.dispatch_mw, atol=1e-6)
    lmps = stored(db, "SELECT interval, bus_id, lmp_usd_mwh, load_mw FROM lascopf_lmps WHERE execution_id = %s",
                  (execution,))
    np.testing.assert_allclose(lmps.pivot(index="interval", columns="bus_id", values="lmp_usd_mwh")
                               [list(case.buses.ids)].to_numpy(), direct.lmp, atol=1e-6)
    assert len(stored(db, "SELECT 1 FROM lascopf_convergence WHERE execution_id = %s", (execution,))) == \
        direct.iterations
    for file in ("case.m", "case.json", "timeseries.parquet", "timeseries.h5"):
        assert lake.exists(row.case_key.rsplit("/", 1)[0] + "/" + file)

    consumer = KafkaConsumer(world.env["KAFKA_TOPIC_PREFIX"] + "lascopf.dispatch",
                             bootstrap_servers=world.env["KAFKA_BOOTSTRAP_SERVERS"], auto_offset_reset="earliest",
                             consumer_timeout_ms=5_000)
    messages = [orjson.loads(m.value) for m in consumer]
    consumer.close()
    assert any(m["execution_id"] == str(execution) and m["status"] == "optimal" for m in messages)


def test_rerunning_a_dispatch_run_changes_nothing(world: World) -> None:
    db = world.platform.db
    first = run_dag("lascopf_dispatch", world.window_end)
    before = stored(db, COUNTS).iloc[0].to_dict()
    objective = stored(db, "SELECT objective_usd FROM lascopf_executions WHERE execution_id = %s",
                       (uuid.UUID(first.xcom["store"]),)).objective_usd[0]
    second = run_dag("lascopf_dispatch", world.window_end)
    assert second.ok and second.run_id == first.run_id and second.xcom["store"] == first.xcom["store"]
    assert stored(db, COUNTS).iloc[0].to_dict() == before
    assert stored(db, "SELECT objective_usd FROM lascopf_executions WHERE execution_id = %s",
                  (uuid.UUID(second.xcom["store"]),)).objective_usd[0] == pytest.approx(objective, rel=1e-9)


def test_a_dispatch_secured_for_the_forecast_band_costs_at_least_the_p50_one(world: World) -> None:
    """The run's conf turns the spread security on: the stored case carries the P10/P90 band, the
    execution says it was secured and stores the P50-only objective beside its own."""
    db, lake = world.platform.db, world.platform.lake
    outcome = run_dag("lascopf_dispatch", world.window_end + timedelta(minutes=1), conf={"secure_spread": True})
    assert outcome.ok, outcome.tasks
    row = stored(db, "SELECT status, objective_usd, p50_objective_usd, spread_secured, case_key FROM"
                     " lascopf_executions WHERE execution_id = %s", (uuid.UUID(outcome.xcom["store"]),)).iloc[0]
    assert row.status == "optimal" and row.spread_secured
    assert row.objective_usd >= row.p50_objective_usd - 1e-6 * abs(row.p50_objective_usd)
    case = read_case_objects(lake, row.case_key.rsplit("/", 1)[0] + "/")
    assert case.load_band_mw is not None and case.load_band_mw.shape == (2, *case.load_mw.shape)
    assert (case.load_band_mw[0] <= case.load_mw + 1e-9).all() and (case.load_mw <= case.load_band_mw[1] + 1e-9).all()


def test_a_corrupted_batch_fails_the_gate_with_a_report_and_writes_nothing(world: World) -> None:
    """An hour later the meters report 1.7 pu: the run stops at the gate, the report is stored (rows
    and Data Docs), and no case, execution or result row exists for it."""
    db, lake = world.platform.db, world.platform.lake
    shift = timedelta(hours=1)
    with db.transaction() as conn:
        conn.execute("SELECT lascopf_ensure_partitions('ami_readings', %s, %s)",
                     (START + shift, world.window_end + shift))
        conn.execute("SELECT lascopf_ensure_partitions('scada_measurements', %s, %s)",
                     (START + shift, world.window_end + shift))
        conn.execute("INSERT INTO ami_readings SELECT event_ts + %s, meter_id, pole_id, seq + 100000, voltage_v * 1.7,"
                     " current_a, power_kw, reactive_kvar, freq_hz, quality_flags, network_profile, gateway_id,"
                     " gateway_ts + %s, received_ts + %s, ingest_batch FROM ami_readings WHERE event_ts >= %s",
                     (shift, shift, shift, START))
        conn.execute("INSERT INTO scada_measurements SELECT ts + %s, element_type, element_id, bus_id, p_mw, q_mvar,"
                     " vm_pu, va_deg, freq_hz, quality_code, received_ts + %s, ingest_batch FROM scada_measurements"
                     " WHERE ts >= %s", (shift, shift, START))
    cases_before = sorted(lake.list("cases/"))
    outcome = run_dag("lascopf_dispatch", world.window_end + shift)
    assert outcome.state == "failed"
    assert outcome.tasks["validate"] == "failed"
    assert {outcome.tasks[t] for t in ("transform", "build_case", "solve", "store", "publish")} == {"upstream_failed"}
    run_key = f"lascopf_dispatch/{outcome.run_id}"
    gate = stored(db, "SELECT quality_run_id, success, failed, docs_key FROM quality_runs WHERE run_key = %s",
                  (run_key,)).iloc[0]
    assert not gate.success and gate.failed >= 1
    site = gate.docs_key.removesuffix("index.html")
    pages = [k for k in lake.list(site) if k.startswith(f"{site}validations/ami_readings/")]
    assert lake.exists(gate.docs_key) and len(pages) == 1 and b"vm_pu" in lake.get(pages[0])
    failures = stored(db, "SELECT suite, column_name FROM quality_results WHERE quality_run_id = %s AND NOT success",
                      (gate.quality_run_id,))
    assert ("ami_readings", "vm_pu") in set(map(tuple, failures.to_numpy()))
    assert stored(db, "SELECT count(*) AS n FROM lascopf_executions WHERE run_key = %s", (run_key,)).n[0] == 0
    assert sorted(lake.list("cases/")) == cases_before


def test_ami_analytics_finds_the_injected_sag_and_rolls_up(world: World) -> None:
    db = world.platform.db
    outcome = run_dag("ami_analytics", world.window_end)
    assert outcome.ok, outcome.tasks
    sags = stored(db, "SELECT meter_id, pole_id, start_ts, duration_s, min_vm_pu FROM voltage_sag_events"
                      " ORDER BY meter_id")
    assert set(sags.pole_id) == {SAG.pole_id} and len(sags) == 4  # every meter on the pole, nothing else
    assert (sags.duration_s == SAG.duration_s).all() and (sags.min_vm_pu < 0.75).all()
    assert (sags.start_ts == START + timedelta(seconds=SAG.start_s)).all()
    rollup = stored(db, "SELECT count(*) AS buckets, sum(readings)::bigint AS readings FROM ami_pole_rollup_1m").iloc[0]
    total = stored(db, "SELECT count(*) AS n FROM ami_readings WHERE event_ts < %s", (world.window_end,)).n[0]
    assert rollup.buckets == 10 * 10 and rollup.readings == total


def test_a_topology_event_starts_a_dispatch_in_process_with_the_branch_out(world: World) -> None:
    """The embedded mode's re-optimisation path: the trigger sees a switched branch in a stored
    batch and the pipeline runs in-process; the case it solved has the branch out of service."""
    import pyarrow as pa

    from data_engineering.ingestion.reopt import InProcessLauncher, ReoptimisationTrigger
    from data_engineering.storage.telemetry import SourceWrite

    db = world.platform.db
    switched = world.window_end - timedelta(minutes=1)
    with db.transaction() as conn:
        conn.execute("SELECT lascopf_ensure_partitions('topology_events', %s, %s)", (switched, switched))
        conn.execute("INSERT INTO topology_events (ts, element_type, element_id, in_service, reason, received_ts,"
                     " ingest_batch) VALUES (%s, 'branch', '2-4', false, 'maintenance', now(), 0)", (switched,))
    launcher = InProcessLauncher(world.platform)
    trigger = ReoptimisationTrigger(launcher, deviation_pct=5.0, cooldown_s=300.0,
                                    interval=timedelta(minutes=5))
    rows = pa.Table.from_pylist([{"ts": switched, "element_type": "branch", "element_id": "2-4", "in_service": False}])
    event = trigger([SourceWrite("topology", 1, 1, rows)])
    assert event is not None and event.reason == "topology: branch 2-4 out of service"
    for thread in launcher.threads:
        thread.join(timeout=120)
    run_key = f"lascopf_dispatch/reopt__{switched.isoformat()}"
    row = stored(db, "SELECT status, case_key FROM lascopf_executions WHERE run_key = %s", (run_key,)).iloc[0]
    assert row.status == "optimal"
    case = read_case_objects(world.platform.lake, row.case_key.rsplit("/", 1)[0] + "/")
    assert not case.branches.in_service[case.branches.names.index("2-4")]
    assert "outage 2-4" not in {c.label for c in case.contingencies}
    with db.transaction() as conn:  # later tests see the network whole again
        conn.execute("DELETE FROM topology_events WHERE element_id = '2-4'")


def test_a_dispatch_without_a_logical_date_ends_its_window_when_it_was_triggered(world: World) -> None:
    """As Airflow 3's REST API starts a manual run by default: no logical date, so no data interval."""
    db = world.platform.db
    outcome = run_dag("lascopf_dispatch", None, run_after=world.window_end)
    assert outcome.ok, outcome.tasks
    row = stored(db, "SELECT status, window_end FROM lascopf_executions WHERE execution_id = %s",
                 (uuid.UUID(outcome.xcom["store"]),)).iloc[0]
    assert row.status == "optimal" and row.window_end == world.window_end


def test_ami_analytics_without_a_logical_date_takes_the_hour_before_the_trigger(world: World) -> None:
    outcome = run_dag("ami_analytics", None, run_after=world.window_end)
    assert outcome.ok, outcome.tasks
    sags = stored(world.platform.db, "SELECT DISTINCT pole_id FROM voltage_sag_events")
    assert set(sags.pole_id) == {SAG.pole_id}


def test_a_dispatch_on_seconds_of_live_data_fails_at_once_and_says_so(world: World) -> None:
    """30 s into the live data the window holds no complete interval: transform fails on its first
    try with the reason, instead of dispatching on the history's forecast."""
    outcome = run_dag("lascopf_dispatch", None, run_after=START + timedelta(seconds=30))
    assert outcome.state == "failed"
    assert (outcome.tasks["validate"], outcome.tasks["transform"], outcome.tries["transform"]) == \
        ("success", "failed", 1)
    run_key = f"lascopf_dispatch/{outcome.run_id}"
    assert stored(world.platform.db, "SELECT count(*) AS n FROM lascopf_executions WHERE run_key = %s",
                  (run_key,)).n[0] == 0
    with pytest.raises(TooFewLiveIntervals, match="holds 0 complete interval"):  # the reason the task failed with
        transform(world.platform, DispatchRun(run_key, START + timedelta(seconds=30)), outcome.xcom["extract"])


def test_a_dispatch_on_a_window_no_reading_reached_fails_its_gate_on_the_row_count(world: World) -> None:
    """The window before the live data holds SCADA history but no AMI reading: the empty extract
    keeps its column types, so the gate judges it (its row count) and the run stops there on the
    first try, instead of crashing on dtypes and retrying."""
    outcome = run_dag("lascopf_dispatch", None, run_after=START)
    assert (outcome.state, outcome.tasks["validate"], outcome.tries["validate"]) == ("failed", "failed", 1)
    run_key = f"lascopf_dispatch/{outcome.run_id}"
    gate = stored(world.platform.db, "SELECT quality_run_id FROM quality_runs WHERE run_key = %s", (run_key,)).iloc[0]
    failures = stored(world.platform.db, "SELECT suite, expectation FROM quality_results WHERE quality_run_id = %s"
                                         " AND NOT success", (gate.quality_run_id,))
    assert set(map(tuple, failures.to_numpy())) == {("ami_readings", "expect_table_row_count_to_be_between")}


def test_a_misplaced_landing_file_is_rejected_with_its_reason_and_the_others_still_load(world: World) -> None:
    db, lake, prefix = world.platform.db, world.platform.lake, world.platform.settings.landing_prefix
    header = "ts,element_type,element_id,bus_id,p_mw,q_mvar,vm_pu,va_deg,freq_hz,quality_code"
    lake.put(f"{prefix}unknown/foo.csv", f"{header}\n2026-11-02T00:00:00Z,load,L2,2,21.7,12.7,,,,good".encode())
    lake.put(f"{prefix}scada/good.csv", f"{header}\n2026-11-02T00:00:00Z,load,L3,3,30.1,10.2,,,,good".encode())
    outcome = run_dag("lascopf_daily_ingest", START + timedelta(days=3))
    assert outcome.state == "failed" and outcome.tasks["summarise"] == "failed"
    assert {t: s for t, s in outcome.tasks.items() if t.startswith("load[")} == {"load[0]": "success",
                                                                                  "load[1]": "success"}
    files = stored(db, "SELECT object_key, source, status, rows_loaded, reason, archived_key FROM landing_files"
                       " WHERE object_key IN (%s, %s) ORDER BY object_key",
                   (f"{prefix}scada/good.csv", f"{prefix}unknown/foo.csv")).to_dict("records")
    assert [(f["source"], f["status"], f["rows_loaded"]) for f in files] == [("scada", "loaded", 1),
                                                                            ("unknown", "rejected", 0)]
    assert f"not under {prefix}<source>/" in files[1]["reason"] and files[0]["reason"] is None
    assert lake.exists(f"rejected/{prefix}unknown/foo.csv") and not lake.exists(f"{prefix}unknown/foo.csv")
    again = run_dag("lascopf_daily_ingest", START + timedelta(days=4))
    assert again.ok and again.xcom["list_landing_files"] == []
