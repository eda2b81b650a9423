"""The Grafana dashboards, written as data: `python grafana/build.py` regenerates
`grafana/dashboards/*.json` (tests/grafana checks the committed files match, and runs every SQL
panel against the migrated schema). Panels are PostgreSQL (TimescaleDB) queries with Grafana's
macros, or PromQL against the Prometheus datasource."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

PG = {"type": "grafana-postgresql-datasource", "uid": "lascopf-timescaledb"}
PROM = {"type": "prometheus", "uid": "lascopf-prometheus"}
OUT = Path(__file__).resolve().parent / "dashboards"


@dataclass(frozen=True)
class Panel:
    title: str
    query: str
    kind: str = "timeseries"  # timeseries | table | stat | barchart
    unit: str = ""
    columns: tuple[str, ...] = ()  # what the SQL returns, in order (checked by the tests)
    prom: bool = False
    width: int = 12


@dataclass(frozen=True)
class Variable:
    name: str
    query: str
    label: str


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]
    variables: tuple[Variable, ...] = field(default_factory=tuple)
    time_from: str = "now-6h"


EXECUTION = Variable("execution", "SELECT execution_id::text AS __value, run_key || ' (' || status || ')' AS __text"
                                  " FROM lascopf_executions ORDER BY created_at DESC LIMIT 100", "Execution")
POLE = Variable("pole", "SELECT pole_id FROM poles ORDER BY pole_id", "Pole")

DASHBOARDS = (
    Dashboard("lascopf-grid", "Grid telemetry overview",
              "SCADA loads, units, voltages and frequency; weather and prices.", (
        Panel("System load (MW)", "SELECT time_bucket('$__interval', ts) AS time, sum(p_mw) / count(DISTINCT ts) AS "
              "load_mw FROM scada_measurements WHERE element_type = 'load' AND $__timeFilter(ts) GROUP BY 1 ORDER BY 1",
              unit="MW", columns=("time", "load_mw")),
        Panel("Unit output (MW)", "SELECT time_bucket('$__interval', ts) AS time, element_id AS metric, avg(p_mw) AS "
              "p_mw FROM scada_measurements WHERE element_type = 'generator' AND $__timeFilter(ts) GROUP BY 1, 2 "
              "ORDER BY 1", unit="MW", columns=("time", "metric", "p_mw")),
        Panel("Bus voltage range (pu)", "SELECT time_bucket('$__interval', ts) AS time, min(vm_pu) AS vm_min_pu, "
              "max(vm_pu) AS vm_max_pu FROM scada_measurements WHERE element_type = 'bus' AND $__timeFilter(ts) "
              "GROUP BY 1 ORDER BY 1", columns=("time", "vm_min_pu", "vm_max_pu")),
        Panel("Frequency (Hz)", "SELECT time_bucket('$__interval', ts) AS time, avg(freq_hz) AS freq_hz FROM "
              "scada_measurements WHERE freq_hz IS NOT NULL AND $__timeFilter(ts) GROUP BY 1 ORDER BY 1",
              unit="hertz", columns=("time", "freq_hz")),
        Panel("Temperature (°C)", "SELECT time_bucket('$__interval', ts) AS time, station_id AS metric, "
              "avg(temperature_c) AS temperature_c FROM weather_observations WHERE $__timeFilter(ts) GROUP BY 1, 2 "
              "ORDER BY 1", unit="celsius", columns=("time", "metric", "temperature_c")),
        Panel("Market LMP ($/MWh)", "SELECT time_bucket('$__interval', ts) AS time, market || ' ' || node_id AS "
              "metric, avg(lmp_usd_mwh) AS lmp_usd_mwh FROM market_prices WHERE $__timeFilter(ts) GROUP BY 1, 2 "
              "ORDER BY 1", columns=("time", "metric", "lmp_usd_mwh")),
    )),
    Dashboard("lascopf-ami-voltage", "AMI voltage quality", "Voltage sags (ANSI C84.1 bands), phase unbalance "
              "(NEMA), the simulator's injected faults, what the detectors flag, and pole health.", (
        Panel("Sag events per hour by band", "SELECT time_bucket('1 hour', start_ts) AS time, severity AS metric, "
              "count(*) AS events FROM voltage_sag_events WHERE $__timeFilter(start_ts) GROUP BY 1, 2 ORDER BY 1",
              kind="barchart", columns=("time", "metric", "events")),
        Panel("Sag events", "SELECT start_ts, end_ts, meter_id, pole_id, duration_s, min_vm_pu, severity FROM "
              "voltage_sag_events WHERE $__timeFilter(start_ts) ORDER BY start_ts DESC LIMIT 500", kind="table",
              columns=("start_ts", "end_ts", "meter_id", "pole_id", "duration_s", "min_vm_pu", "severity")),
        Panel("Pole $pole: kW and voltage", "SELECT bucket AS time, power_kw, vm_pu_avg FROM ami_pole_rollup_1m "
              "WHERE pole_id = '$pole' AND $__timeFilter(bucket) ORDER BY 1",
              columns=("time", "power_kw", "vm_pu_avg")),
        Panel("Samples outside Range A by feeder (%)", "SELECT time_bucket('$__interval', r.bucket) AS time, "
              "t.feeder_id AS metric, 100.0 * sum(r.outside_range_a) / sum(r.readings) AS outside_range_a_pct FROM "
              "ami_meter_rollup_5m r JOIN meter_topology t USING (meter_id) WHERE $__timeFilter(r.bucket) "
              "GROUP BY 1, 2 ORDER BY 1", unit="percent", columns=("time", "metric", "outside_range_a_pct")),
        Panel("Completeness by feeder (%)", "SELECT time_bucket('$__interval', r.bucket) AS time, t.feeder_id AS "
              "metric, 100.0 * sum(r.readings) / sum(r.seq_max - r.seq_min + 1) AS completeness_pct FROM "
              "ami_meter_rollup_5m r JOIN meter_topology t USING (meter_id) WHERE $__timeFilter(r.bucket) "
              "GROUP BY 1, 2 ORDER BY 1", unit="percent", columns=("time", "metric", "completeness_pct")),
        Panel("DR baselines for today (kW)", "SELECT baseline_day + slot * interval '5 minutes' AS time, pole_id AS "
              "metric, baseline_kw FROM dr_baselines WHERE pole_id = '$pole' AND baseline_day = $__timeTo()::date "
              "ORDER BY 1", columns=("time", "metric", "baseline_kw")),
        Panel("Worst voltage unbalance by feeder (NEMA, %)", "SELECT time_bucket('$__interval', ts) AS time, "
              "feeder_id AS metric, max(voltage_unbalance_pct) AS voltage_unbalance_pct FROM phase_unbalance WHERE "
              "$__timeFilter(ts) GROUP BY 1, 2 ORDER BY 1", unit="percent",
              columns=("time", "metric", "voltage_unbalance_pct")),
        Panel("Injected faults (simulation ground truth)", "SELECT start_ts, end_ts, kind, target_kind, target_id, "
              "severity FROM fault_labels WHERE $__timeFilter(start_ts) ORDER BY start_ts DESC LIMIT 200",
              kind="table", columns=("start_ts", "end_ts", "kind", "target_kind", "target_id", "severity")),
        Panel("Flagged faults by kind (anomaly_models DAG)", "SELECT time_bucket('$__interval', e.window_start) AS "
              "time, e.predicted_kind AS metric, count(*) AS flagged FROM anomaly_events e WHERE "
              "$__timeFilter(e.window_start) AND e.predicted_kind <> '' GROUP BY 1, 2 ORDER BY 1", kind="barchart",
              columns=("time", "metric", "flagged")),
        Panel("Detector versions: held-out F1 by kind", "SELECT m.created_at AS time, m.detector || ' v' || m.version "
              "|| ' ' || k.kind AS metric, (k.m ->> 'f1')::double precision AS f1 FROM anomaly_models m CROSS JOIN "
              "LATERAL jsonb_each(m.metrics) AS k(kind, m) WHERE $__timeFilter(m.created_at) ORDER BY 1",
              kind="table", columns=("time", "metric", "f1")),
    ), (POLE,)),
    Dashboard("lascopf-data-quality", "Data quality", "Great Expectations gate runs and dead letters.", (
        Panel("Gate runs", "SELECT created_at AS time, pipeline AS metric, CASE WHEN success THEN 1 ELSE 0 END AS "
              "passed FROM quality_runs WHERE $__timeFilter(created_at) ORDER BY 1", kind="barchart",
              columns=("time", "metric", "passed")),
        Panel("Failed expectations", "SELECT q.created_at, q.pipeline, r.suite, r.expectation, r.column_name, "
              "r.unexpected_percent, q.docs_key FROM quality_results r JOIN quality_runs q USING (quality_run_id) "
              "WHERE NOT r.success AND $__timeFilter(q.created_at) ORDER BY q.created_at DESC LIMIT 200", kind="table",
              columns=("created_at", "pipeline", "suite", "expectation", "column_name", "unexpected_percent",
                       "docs_key")),
        Panel("Dead letters per source", "SELECT time_bucket('$__interval', dead_lettered_at) AS time, source AS "
              "metric, count(*) AS dead_letters FROM dead_letters WHERE $__timeFilter(dead_lettered_at) GROUP BY 1, 2 "
              "ORDER BY 1", kind="barchart", columns=("time", "metric", "dead_letters")),
        Panel("Dead-letter reasons", "SELECT source, reason, count(*) AS records, max(dead_lettered_at) AS last_seen "
              "FROM dead_letters WHERE $__timeFilter(dead_lettered_at) GROUP BY source, reason ORDER BY records DESC",
              kind="table", columns=("source", "reason", "records", "last_seen")),
    )),
    Dashboard("lascopf-dispatch", "LASCOPF dispatch and LMPs", "Dispatch, prices and binding constraints of a run.", (
        Panel("Executions", "SELECT created_at, execution_id, status, objective_usd, solve_time_s, iterations, "
              "contingencies, forecast_mape_pct FROM lascopf_executions WHERE $__timeFilter(created_at) "
              "ORDER BY created_at DESC LIMIT 100", kind="table",
              columns=("created_at", "execution_id", "status", "objective_usd", "solve_time_s", "iterations",
                       "contingencies", "forecast_mape_pct"), width=24),
        Panel("Dispatch by unit (MW)", "SELECT ts AS time, gen_id AS metric, p_mw FROM lascopf_dispatch WHERE "
              "execution_id = '$execution' ORDER BY 1", unit="MW", columns=("time", "metric", "p_mw")),
        Panel("LMP by bus ($/MWh)", "SELECT ts AS time, 'bus ' || bus_id AS metric, lmp_usd_mwh FROM lascopf_lmps "
              "WHERE execution_id = '$execution' ORDER BY 1", columns=("time", "metric", "lmp_usd_mwh")),
        Panel("LMP = energy + congestion ($/MWh)", "SELECT ts AS time, 'energy (reference bus)' AS metric, "
              "max(energy_usd_mwh) AS usd_mwh FROM lascopf_lmps WHERE execution_id = '$execution' GROUP BY ts "
              "UNION ALL SELECT ts, 'congestion bus ' || bus_id, congestion_usd_mwh FROM lascopf_lmps "
              "WHERE execution_id = '$execution' AND abs(congestion_usd_mwh) > 1e-6 ORDER BY 1",
              columns=("time", "metric", "usd_mwh")),
        Panel("Binding constraints", "SELECT interval, branch_id, contingency, flow_mw, limit_mw, "
              "shadow_price_usd_mwh FROM lascopf_binding_constraints WHERE execution_id = '$execution' "
              "ORDER BY interval, branch_id", kind="table",
              columns=("interval", "branch_id", "contingency", "flow_mw", "limit_mw", "shadow_price_usd_mwh")),
        Panel("Most loaded lines (%)", "SELECT branch_id, scenario, max(loading_pct) AS loading_pct FROM lascopf_flows "
              "WHERE execution_id = '$execution' GROUP BY branch_id, scenario ORDER BY loading_pct DESC NULLS LAST "
              "LIMIT 15", kind="table", columns=("branch_id", "scenario", "loading_pct")),
        Panel("Load forecast P10 / P50 / P90 (MW)", "SELECT ts AS time, p10_mw, p50_mw, p90_mw FROM "
              "lascopf_forecast_band WHERE execution_id = '$execution' ORDER BY 1", unit="MW",
              columns=("time", "p10_mw", "p50_mw", "p90_mw")),
        Panel("Forecast backtest of $execution", "SELECT method, origins, mape_pct, pinball_mw, rcrps, coverage, "
              "nominal_coverage FROM lascopf_forecast_scores WHERE execution_id = '$execution' ORDER BY method",
              kind="table", columns=("method", "origins", "mape_pct", "pinball_mw", "rcrps", "coverage",
                                     "nominal_coverage")),
        Panel("Forecast rCRPS per run: model against baselines", "SELECT e.created_at AS time, s.method AS metric, "
              "s.rcrps FROM lascopf_forecast_scores s JOIN lascopf_executions e USING (execution_id) WHERE "
              "$__timeFilter(e.created_at) ORDER BY 1", columns=("time", "metric", "rcrps")),
        Panel("Cost of securing the forecast band ($)", "SELECT created_at AS time, objective_usd - p50_objective_usd "
              "AS spread_security_usd FROM lascopf_executions WHERE spread_secured AND p50_objective_usd IS NOT NULL "
              "AND $__timeFilter(created_at) ORDER BY 1", columns=("time", "spread_security_usd")),
    ), (EXECUTION,), "now-24h"),
    Dashboard("lascopf-convergence", "Solver convergence", "ADMM residuals and solve times.", (
        Panel("Residuals of $execution", "SELECT iteration, primal_residual_mw, dual_residual_usd_mwh FROM "
              "lascopf_convergence WHERE execution_id = '$execution' ORDER BY iteration", kind="table",
              columns=("iteration", "primal_residual_mw", "dual_residual_usd_mwh")),
        Panel("Solve time (s)", "SELECT created_at AS time, solve_time_s FROM lascopf_executions WHERE "
              "$__timeFilter(created_at) ORDER BY 1", unit="s", columns=("time", "solve_time_s")),
        Panel("Iterations", "SELECT created_at AS time, iterations FROM lascopf_executions WHERE "
              "$__timeFilter(created_at) ORDER BY 1", columns=("time", "iterations")),
        Panel("Runs by status", "SELECT status, count(*) AS runs FROM lascopf_executions WHERE "
              "$__timeFilter(created_at) GROUP BY status ORDER BY status", kind="table", columns=("status", "runs")),
    ), (EXECUTION,), "now-24h"),
    Dashboard("lascopf-platform", "Platform health", "Prometheus: ingest, API, pipelines.", (
        Panel("Records stored /s", "sum by (source) (rate(lascopf_ingest_records_total[5m]))", prom=True),
        Panel("Consumer lag (messages)", "sum by (topic) (lascopf_ingest_consumer_lag)", prom=True),
        Panel("Dead letters /s", "sum by (source, reason) (rate(lascopf_ingest_rejected_total[5m]))", prom=True),
        Panel("Batch commit p99 (s)", "histogram_quantile(0.99, sum by (le) (rate(lascopf_ingest_batch_seconds_bucket"
              "[5m])))", unit="s", prom=True),
        Panel("API requests /s", "sum by (route, status) (rate(lascopf_api_requests_total[5m]))", prom=True),
        Panel("API p99 latency (s)", "histogram_quantile(0.99, sum by (le, route) (rate(lascopf_api_request_seconds_"
              "bucket[5m])))", unit="s", prom=True),
        Panel("Quality gates passing", "lascopf_quality_gate_passed", kind="stat", prom=True),
        Panel("Last dispatch optimal", "lascopf_dispatch_optimal", kind="stat", prom=True),
    )),
)


def panel_json(panel: Panel, index: int) -> dict:
    grid = {"h": 8, "w": panel.width, "x": 0 if panel.width == 24 else (index % 2) * 12, "y": (index // 2) * 8}
    if panel.prom:
        target = {"refId": "A", "datasource": PROM, "expr": panel.query, "legendFormat": "__auto"}
    else:
        fmt = "table" if panel.kind == "table" or not panel.columns or panel.columns[0] != "time" else "time_series"
        target = {"refId": "A", "datasource": PG, "editorMode": "code", "format": fmt, "rawQuery": True,
                  "rawSql": panel.query}
    return {"id": index + 1, "type": panel.kind, "title": panel.title, "gridPos": grid,
            "datasource": PROM if panel.prom else PG, "targets": [target],
            "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []}, "options": {}}


def dashboard_json(d: Dashboard) -> dict:
    variables = [{"name": v.name, "label": v.label, "type": "query", "datasource": PG, "query": v.query,
                  "refresh": 1, "includeAll": False, "multi": False} for v in d.variables]
    return {"uid": d.uid, "title": d.title, "description": d.description, "tags": ["lascopf"], "editable": False,
            "schemaVersion": 39, "version": 1, "refresh": "30s", "time": {"from": d.time_from, "to": "now"},
            "templating": {"list": variables}, "panels": [panel_json(p, i) for i, p in enumerate(d.panels)]}


def render() -> dict[str, str]:
    return {f"{d.uid}.json": json.dumps(dashboard_json(d), indent=2) + "\n" for d in DASHBOARDS}


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text)
        print(f"wrote {OUT / name}")
