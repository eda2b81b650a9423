"""Every dashboard panel's SQL, with Grafana's macros and variables expanded, runs against the
migrated schema holding simulated data and returns the columns the panel expects; the committed
JSON is what grafana/build.py renders; PromQL panels name metrics the platform exports."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from data_engineering.analytics.rollups import refresh_rollups
from data_engineering.analytics.sags import detect_sags
from data_engineering.contracts.anomaly import AnomalyEvent, AnomalyModel
from data_engineering.contracts.spec import stored_arrow_schema
from data_engineering.contracts.telemetry import telemetry_sources
from data_engineering.embedded.postgres import PostgresServer
from data_engineering.simulation.engine import Disturbance, utc
from data_engineering.simulation.faults import Fault, fault_labels
from data_engineering.simulation.history import scada_history, to_parquet
from data_engineering.storage.anomaly import write_events, write_model
from data_engineering.storage.backfill import backfill
from data_engineering.storage.database import Database
from data_engineering.storage.faults import write_fault_labels
from data_engineering.storage.migrations import migrate
from tests.analytics.conftest import START, fleet, load
from tests.api.conftest import store_solved_execution

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "grafana"
FROM, TO = START - timedelta(hours=2), START + timedelta(hours=1)


def build_module():  # noqa: ANN201 - grafana/build.py as a module
    spec = importlib.util.spec_from_file_location("grafana_build", GRAFANA / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


BUILD = build_module()


def expand(sql: str, variables: dict[str, str]) -> str:
    """Grafana's PostgreSQL macros and template variables, as Grafana substitutes them."""
    def stamp(t: datetime) -> str:
        return f"'{t.isoformat()}'"

    sql = re.sub(r"\$__timeFilter\(([^)]+)\)", lambda m: f"{m[1]} BETWEEN {stamp(FROM)} AND {stamp(TO)}", sql)
    sql = sql.replace("$__timeFrom()", stamp(FROM)).replace("$__timeTo()", stamp(TO))
    sql = sql.replace("$__interval", "5m")
    for name, value in variables.items():
        sql = sql.replace(f"${name}", value)
    assert "$" not in sql, f"unexpanded macro or variable in: {sql}"
    return sql


@pytest.fixture(scope="module")
def db(pg_server: PostgresServer) -> Iterator[Database]:
    name = f"grafana_{uuid.uuid4().hex[:10]}"
    database = Database(pg_server.create_database(name))
    migrate(database)
    sim = fleet(n_meters=12, disturbances=(Disturbance("sag", 300.0, 10.0, 0.6, pole_id="p-00000"),))
    load(database, sim, 1800)
    refresh_rollups(database, START, START + timedelta(seconds=1800))
    detect_sags(database, START, START + timedelta(seconds=1800))
    scada = pq.read_table(pa.BufferReader(to_parquet(scada_history(sim, days=0.05))))
    received = pa.array([START] * scada.num_rows, pa.timestamp("us", tz="UTC"))
    backfill(database, telemetry_sources()["scada"], [scada.append_column("received_ts", received)])
    store_solved_execution(database)
    store_phases_and_faults(database)
    store_anomaly_events(database)
    with database.transaction() as conn:
        for table in ("weather_observations", "market_prices"):
            conn.execute("SELECT lascopf_ensure_partitions(%s, %s, %s)", (table, FROM, TO))
        conn.execute("INSERT INTO scada_measurements (ts, element_type, element_id, bus_id, vm_pu, va_deg, freq_hz,"
                     " quality_code, received_ts, ingest_batch) VALUES (%s, 'bus', '1', 1, 1.02, 0, 60.01, 'good',"
                     " now(), 0)", (START,))  # the historian export carries loads and units only
        conn.execute("INSERT INTO weather_observations (ts, station_id, temperature_c, received_ts, ingest_batch)"
                     " VALUES (%s, 'ws-00', 21.5, now(), 0)", (START,))
        conn.execute("INSERT INTO market_prices (ts, market, node_id, lmp_usd_mwh, received_ts, ingest_batch)"
                     " VALUES (%s, 'real_time', 'bus-1', 31.2, now(), 0)", (START,))
        run = uuid.uuid4()
        conn.execute("INSERT INTO quality_runs (quality_run_id, pipeline, run_key, success, evaluated, failed,"
                     " docs_key, created_at) VALUES (%s, 'lascopf_dispatch', 'r', false, 3, 1, 'quality/x', %s)",
                     (run, START))
        conn.execute("INSERT INTO quality_results (quality_run_id, suite, expectation, column_name, success,"
                     " unexpected_percent, ordinal) VALUES (%s, 'ami', 'expect_column_values_to_be_between',"
                     " 'vm_pu', false, 12.5, 0)", (run,))
        conn.execute("INSERT INTO dead_letters (dead_lettered_at, source, topic, kafka_partition, kafka_offset, item,"
                     " reason, payload) VALUES (%s, 'ami', 'ami.readings', 0, 7, -1, 'schema', 'x')", (START,))
        conn.execute("UPDATE lascopf_executions SET created_at = %s", (START,))
        conn.execute("INSERT INTO dr_baselines VALUES ('p-00000', %s, 150, 4.2, 5)", (TO.date(),))
    yield database
    pg_server.drop_database(name)


def store_phases_and_faults(db: Database) -> None:
    """Two minutes of the phase stream with an unbalance injected, and its label."""
    unbalance = Fault("phase_unbalance", "transformer", "xf-p-00000", 30.0, 60.0, 0.05, phase="A")
    sim = fleet(n_meters=12, duration_s=120, faults=(unbalance,))
    source = telemetry_sources()["phases"]
    records = [r | {"ts": utc(r["ts"]), "received_ts": START} for _, batch in sim.run() for d in batch
               if d.topic == source.topic for r in orjson.loads(d.value)["measurements"]]
    schema = pa.schema([f for f in stored_arrow_schema(source) if f.name != "ingest_batch"])
    backfill(db, source, [pa.Table.from_pylist(records, schema)])
    with db.transaction() as conn:
        write_fault_labels(conn, fault_labels(sim.report.faults, START, sim.config.seed))


def store_anomaly_events(db: Database) -> None:
    """A detector version with its held-out metrics, and one window it flagged."""
    model = AnomalyModel("hgb-grafana", "hgb", FROM, START, START, TO, 1, ("v_min_pu",),
                         {"phase_unbalance": {"precision": 0.9, "recall": 0.8, "f1": 0.85}})
    window = START + timedelta(minutes=1)
    with db.transaction() as conn:
        write_model(conn, model)
        conn.execute("UPDATE anomaly_models SET created_at = %s", (START,))
        write_events(conn, [AnomalyEvent(window, window + timedelta(minutes=1), "transformer", "xf-p-00000",
                                         "hgb-grafana", "phase_unbalance", 0.93)])


def variables(db: Database) -> dict[str, str]:
    with db.connect() as conn:
        execution = conn.execute(BUILD.EXECUTION.query).fetchone()[0]
        pole = conn.execute(BUILD.POLE.query).fetchone()[0]
    return {"execution": execution, "pole": pole}


SQL_PANELS = [(d.uid, p) for d in BUILD.DASHBOARDS for p in d.panels if not p.prom]


@pytest.mark.parametrize(("uid", "panel"), SQL_PANELS, ids=[f"{u}:{p.title}" for u, p in SQL_PANELS])
def test_panel_sql_returns_its_columns_and_data(db: Database, uid: str, panel) -> None:  # noqa: ANN001
    with db.connect() as conn:
        cur = conn.execute(expand(panel.query, variables(db)))
        rows = cur.fetchall()
        assert tuple(d.name for d in cur.description) == panel.columns
    assert rows, f"{uid}: {panel.title} returned nothing on the simulated data"


def test_committed_dashboards_are_the_rendered_ones() -> None:
    rendered = BUILD.render()
    committed = {p.name: p.read_text() for p in (GRAFANA / "dashboards").glob("*.json")}
    assert committed == rendered, "run `python grafana/build.py` and commit the result"
    for text in rendered.values():
        for panel in json.loads(text)["panels"]:
            assert panel["targets"][0]["datasource"]["uid"] in provisioned_uids()


def provisioned_uids() -> set[str]:
    uids = set()
    for path in (GRAFANA / "provisioning" / "datasources").glob("*.yml"):
        uids |= {d["uid"] for d in yaml.safe_load(path.read_text())["datasources"]}
    return uids


def exported_metrics() -> set[str]:
    from data_engineering.api.metrics import ApiMetrics
    from data_engineering.ingestion.metrics import IngestMetrics

    names = set()
    for registry in (IngestMetrics().registry, ApiMetrics().registry):
        for family in registry.collect():  # labelled families have no samples until first used
            suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}.get(family.type, ("",))
            names |= {family.name + suffix for suffix in suffixes}
    pushed = re.findall(r'\("(lascopf_[a-z_]+)"', "".join(
        (ROOT / "data_engineering" / "pipelines" / f).read_text() for f in ("dispatch.py", "quality_gate.py")))
    return names | set(pushed)


def test_promql_panels_name_exported_metrics() -> None:
    known = exported_metrics()
    for d in BUILD.DASHBOARDS:
        for panel in (p for p in d.panels if p.prom):
            used = set(re.findall(r"\blascopf_[a-z_]+", panel.query))
            assert used and used <= known, (panel.title, used - known)
