"""lascopf_dispatch: extract a telemetry window → quality gate → clean, aggregate, forecast → build
the case → solve → store → publish. One function per step; `run_dispatch` chains them in-process.

A run is named by its `run_key` (the DAG run); its window ends at `window_end` (the data interval
end), and the look-ahead starts there."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
import pandas as pd

from data_engineering.pipelines.artifacts import execution_id, get_frame, put_frame, run_prefix
from data_engineering.pipelines.quality_gate import gate, quality_limits
from data_engineering.runtime import Platform

log = logging.getLogger(__name__)
PIPELINE = "lascopf_dispatch"


@dataclass(frozen=True)
class DispatchRun:
    run_key: str
    window_end: datetime
    secure_spread: bool | None = None  # secure the dispatch for the forecast's P10-P90 band; None: the setting

    def secured(self, platform: Platform) -> bool:
        return platform.settings.dispatch_secure_spread if self.secure_spread is None else self.secure_spread

    @property
    def execution_id(self) -> uuid.UUID:
        return execution_id(self.run_key)

    @property
    def prefix(self) -> str:
        return run_prefix(PIPELINE, self.run_key)

    def window(self, minutes: float) -> tuple[datetime, datetime]:
        return self.window_end - timedelta(minutes=minutes), self.window_end


class TooFewLiveIntervals(ValueError):
    """The live window holds fewer complete intervals than DISPATCH_MIN_LIVE_INTERVALS: a run
    dispatching on seconds of data would pass off the history's forecast as a live dispatch."""


def _interval(platform: Platform) -> pd.Timedelta:
    return pd.Timedelta(minutes=platform.settings.dispatch_interval_minutes)


def extract(platform: Platform, run: DispatchRun) -> dict:
    """Read the live window (AMI, SCADA) and the load and weather history by event time into the lake."""
    from data_engineering.storage.windows import read_ami, read_scada, read_weather

    s = platform.settings
    start, end = run.window(s.dispatch_window_minutes)
    history_start = end - timedelta(days=s.dispatch_history_days)
    with platform.db.connect(autocommit=True) as conn:
        ami = read_ami(conn, start, end)
        scada = read_scada(conn, start, end)
        history = read_scada(conn, history_start, end, ("load", "generator"))
        weather = read_weather(conn, history_start, end, _interval(platform).to_pytimedelta())
    frames = (("ami", ami), ("scada", scada), ("history", history), ("weather", weather))
    keys = {name: put_frame(platform.lake, f"{run.prefix}{name}.parquet", frame) for name, frame in frames}
    log.info("extracted %s → %s: %d AMI readings, %d SCADA measurements, %d history rows and %d weather intervals "
             "from %s; wrote %s", start.isoformat(), end.isoformat(), len(ami), len(scada), len(history), len(weather),
             history_start.isoformat(), ", ".join(keys.values()))
    return {**keys, "window_start": start.isoformat(), "window_end": end.isoformat(),
            "counts": {name: len(frame) for name, frame in frames}}


def validate(platform: Platform, run: DispatchRun, extracted: dict) -> str:
    """AMI and SCADA suites on the live window; the quality run id when it passes."""
    from data_engineering.contracts.telemetry import SCADA_MEASUREMENT, ami_reading
    from data_engineering.validation.suites import ami_suite, prepare_ami, prepare_scada, scada_suite

    limits = quality_limits(platform)
    ami = prepare_ami(get_frame(platform.lake, extracted["ami"]), limits)
    scada = prepare_scada(get_frame(platform.lake, extracted["scada"]), limits)
    batches = [(ami_suite(ami_reading(platform.settings.nominal_voltage_v), limits), ami),
               (scada_suite(SCADA_MEASUREMENT, limits), scada)]
    window = (datetime.fromisoformat(extracted["window_start"]), datetime.fromisoformat(extracted["window_end"]))
    quality_run_id = uuid.uuid5(run.execution_id, "telemetry")
    return str(gate(platform, run.run_key, batches, window, quality_run_id, PIPELINE))


def transform(platform: Platform, run: DispatchRun, extracted: dict) -> dict:
    """Clean the window, aggregate AMI to buses, join the history, fit the quantile forecast on all
    but the last FORECAST_BACKTEST_DAYS and score it on them, then forecast the look-ahead with that
    same model from the latest data; its median and band (P10, P90) go to the lake."""
    from data_engineering.storage.network import network_at
    from data_engineering.transformation.backtest import backtest
    from data_engineering.transformation.bus_load import (
        ami_bus_load,
        observed_bus_load,
        regular,
        scada_bus_load,
        unit_output,
    )
    from data_engineering.transformation.clean import clean_ami, clean_scada

    s, interval = platform.settings, _interval(platform)
    meters, cleaning = clean_ami(get_frame(platform.lake, extracted["ami"]), interval,
                                 pd.Timedelta(seconds=s.dispatch_allowed_lateness_s))
    live = meters["interval_start"].nunique() if not meters.empty else 0
    if live < s.dispatch_min_live_intervals:
        raise TooFewLiveIntervals(
            f"the window {extracted['window_start']} to {extracted['window_end']} holds {live} complete interval(s) "
            f"of AMI readings, DISPATCH_MIN_LIVE_INTERVALS is {s.dispatch_min_live_intervals} (incomplete: "
            f"{', '.join(cleaning.incomplete_intervals) or 'none'}; {cleaning.readings} readings)")
    window = clean_scada(get_frame(platform.lake, extracted["scada"]))
    history = clean_scada(get_frame(platform.lake, extracted["history"]))
    observed, factors = observed_bus_load(scada_bus_load(window, interval), ami_bus_load(meters))
    with platform.db.connect(autocommit=True) as conn:
        network = network_at(conn, run.window_end, s.dispatch_interval_minutes)
    loads = scada_bus_load(history, interval)
    loads = observed.combine_first(loads) if not observed.empty else loads
    loads = regular(loads[loads.index < run.window_end], network.case.buses.ids, interval)
    weather = get_frame(platform.lake, extracted["weather"]) if "weather" in extracted else None
    quality = backtest(loads, s.dispatch_intervals, interval, s.forecast_backtest_days, s.forecast_holiday_country,
                       weather)
    forecast = quality.forecaster.predict(loads, weather)  # the model the scores describe, from the latest data
    p10, p90 = forecast.band
    p0 = unit_output(pd.concat([history, window]))
    # bus loads are the build step's "history", written apart from extract's history.parquet (read on a retry)
    frames = {"history": ("bus_loads", loads), "forecast": ("forecast", forecast.median),
              "forecast_p10": ("forecast_p10", p10), "forecast_p90": ("forecast_p90", p90)}
    keys = {name: put_frame(platform.lake, f"{run.prefix}{file}.parquet", frame.rename(columns=str))
            for name, (file, frame) in frames.items()}
    out = {
        **keys,
        "p0_mw": {k: float(v) for k, v in p0.items()},
        "cleaning": cleaning.as_dict(),
        "expansion_factors": {str(k): float(v) for k, v in factors.items()},
        "backtest": quality.as_dict(),
        "network_version": network.version_id,
    }
    m = quality.model
    log.info("cleaned %d readings (%s); bus loads %d intervals x %d buses; forecast P10-P90 for %d intervals from %s;"
             " backtest over %d origins: MAPE %.2f %% (persistence %.2f %%), rCRPS %.4f (persistence %.4f), P10-P90 "
             "coverage %.2f; wrote %s", cleaning.readings, cleaning.as_dict(), *loads.shape, len(forecast.index),
             forecast.index[0].isoformat(), quality.origins, m.mape_pct, quality.persistence.mape_pct, m.rcrps,
             quality.persistence.rcrps, m.coverage, ", ".join(keys.values()))
    return out


def build(platform: Platform, run: DispatchRun, transformed: dict) -> dict:
    """Network model in force + forecast + P0 → the case; the case suite gates it; written to the lake."""
    from data_engineering.storage.case_store import write_case_objects
    from data_engineering.storage.network import network_at
    from data_engineering.transformation.case_build import build_case, case_hash
    from data_engineering.validation.suites import case_suites, case_tables

    s = platform.settings
    with platform.db.connect(autocommit=True) as conn:
        network = network_at(conn, run.window_end, s.dispatch_interval_minutes)
    forecast, *band = (_bus_frame(platform, transformed[name]) for name in ("forecast", "forecast_p10", "forecast_p90"))
    case, n1 = build_case(network, forecast, pd.Series(transformed["p0_mw"], dtype=float),
                          name=network.name, emergency_factor=s.dispatch_emergency_factor,
                          contingencies=s.dispatch_contingencies, islanding=s.dispatch_islanding,
                          band=band if run.secured(platform) else ())
    tables = case_tables(case)
    gate(platform, run.run_key, [(suite, tables[suite.name]) for suite in case_suites()],
         (forecast.index[0].to_pydatetime(), forecast.index[-1].to_pydatetime()), uuid.uuid5(run.execution_id, "case"),
         PIPELINE)
    digest = case_hash(case)
    history = get_frame(platform.lake, transformed["history"])
    stored = write_case_objects(platform.lake, case, digest, forecast.index, history)
    log.info("built case %s: %d buses, %d units, %d branches, %d intervals, %d contingencies (%d islanding left "
             "out); hash %s; wrote %s", case.name, case.buses.n, case.generators.n, case.branches.n, case.intervals,
             len(case.contingencies), len(n1.islanding), digest[:16], stored.prefix)
    return {"case_prefix": stored.prefix, "case_hash": digest, "network_version": network.version_id,
            "islanding": [c.label for c in n1.islanding], "times": [t.isoformat() for t in forecast.index]}


def _bus_frame(platform: Platform, key: str) -> pd.DataFrame:
    frame = get_frame(platform.lake, key)
    frame.columns = frame.columns.astype(int)
    return frame


def solve(platform: Platform, run: DispatchRun, built: dict) -> dict:
    """Solve the stored case; the result record goes to the lake. A run secured for the forecast's
    band also solves the P50 alone, for the cost of that security."""
    from data_engineering.solver.options import SolveOptions
    from data_engineering.solver.solve import solve_case
    from data_engineering.solver.spread import solve_secured
    from data_engineering.storage.case_store import read_case_objects

    s = platform.settings
    case = read_case_objects(platform.lake, built["case_prefix"])
    secured = case.load_band_mw is not None
    options = SolveOptions(method=s.dispatch_method, load_shedding=s.dispatch_load_shedding, mode=s.dispatch_mode,
                           islanding=s.dispatch_islanding, secure_spread=secured)
    began = time.perf_counter()
    result, p50 = solve_secured(case, options, s.solver_backend) if secured else (
        solve_case(case, options, s.solver_backend), None)
    result.islanding_contingencies = built["islanding"]
    key = f"{run.prefix}result.json"
    platform.lake.put(key, orjson.dumps(result.to_json(case), option=orjson.OPT_SERIALIZE_NUMPY),
                      "application/json")
    log.info("solved %s with %s (%s backend): %s, objective %.2f, %d iterations, %.2f s (wall %.2f s); wrote %s",
             case.name, options.method, s.solver_backend, result.status, result.objective, result.iterations,
             result.solve_time_s, time.perf_counter() - began, key)
    if not result.ok:
        log.warning("solver: %s", result.message)
    p50_objective = p50.objective if p50 is not None and p50.status == "optimal" else None
    if secured:
        log.info("secured for the forecast's P10-P90 band: objective %.2f against %s for the P50 alone",
                 result.objective, "n/a" if p50_objective is None else f"{p50_objective:.2f}")
    return {"result": key, "status": result.status, "objective": result.objective,
            "decomposition": "interval" if options.method == "admm" else None,
            "spread_secured": secured, "p50_objective": p50_objective}


def store(platform: Platform, run: DispatchRun, extracted: dict, quality_run_id: str, transformed: dict,
          built: dict, solved: dict) -> str:
    """Results into PostgreSQL, replacing any earlier attempt of the same run."""
    from data_engineering.storage.case_store import read_case_objects
    from data_engineering.storage.results import ExecutionRecord, ForecastBand, store_execution, store_forecast

    case = read_case_objects(platform.lake, built["case_prefix"])
    scores = transformed["backtest"]["scores"]
    result = orjson.loads(platform.lake.get(solved["result"]))
    record = ExecutionRecord(
        execution_id=run.execution_id, run_key=run.run_key, case_key=f"{built['case_prefix']}case.m",
        case_hash=built["case_hash"], network_version=built["network_version"],
        window_start=datetime.fromisoformat(extracted["window_start"]),
        window_end=datetime.fromisoformat(extracted["window_end"]), quality_run_id=uuid.UUID(quality_run_id),
        decomposition=solved["decomposition"], forecast_mape_pct=scores["model"]["mape_pct"],
        persistence_mape_pct=scores["persistence"]["mape_pct"], spread_secured=solved.get("spread_secured", False),
        p50_objective_usd=solved.get("p50_objective"))
    times = pd.DatetimeIndex(pd.to_datetime(built["times"], utc=True))
    band = ForecastBand(*(_bus_frame(platform, transformed[name]).sum(axis=1)
                             for name in ("forecast_p10", "forecast", "forecast_p90")))
    with platform.db.transaction() as conn:
        store_execution(conn, record, case, result, times, platform.settings.flows_min_contingency_loading_pct)
        store_forecast(conn, record.execution_id, band, transformed["backtest"])
    log.info("stored execution %s (%s) for %s", run.execution_id, result["status"], run.run_key)
    return str(run.execution_id)


def publish(platform: Platform, run: DispatchRun, execution: str) -> dict:
    """One summary message on the dispatch topic (keyed by execution id) and, when a Pushgateway is
    configured, the run's metrics."""
    from kafka import KafkaProducer

    from data_engineering.storage.dispatch_summary import execution_summary

    summary = execution_summary(platform.db, uuid.UUID(execution))
    topic = platform.settings.topic(platform.settings.dispatch_topic)
    producer = KafkaProducer(bootstrap_servers=platform.bootstrap_servers, acks="all")
    try:
        producer.send(topic, key=execution.encode(), value=orjson.dumps(summary, default=str)).get(timeout=30)
    finally:
        producer.close()
    push_metrics(platform.settings.pushgateway_url, summary)
    log.info("published execution %s to %s: %s", execution, topic, summary)
    return summary


def push_metrics(url: str | None, summary: dict) -> None:
    from data_engineering.pipelines.metrics_push import push_gauges

    push_gauges(url, PIPELINE, [
        ("lascopf_dispatch_objective_usd", "objective of the last dispatch", summary["objective_usd"]),
        ("lascopf_dispatch_solve_seconds", "solver time of the last dispatch", summary["solve_time_s"]),
        ("lascopf_dispatch_iterations", "solver iterations of the last dispatch", summary["iterations"]),
        ("lascopf_dispatch_optimal", "1 if the last dispatch was optimal", summary["status"] == "optimal")])


def run_dispatch(platform: Platform, run: DispatchRun) -> dict:
    """Every step in order, in this process (the embedded mode's direct call)."""
    extracted = extract(platform, run)
    quality_run_id = validate(platform, run, extracted)
    transformed = transform(platform, run, extracted)
    built = build(platform, run, transformed)
    solved = solve(platform, run, built)
    execution = store(platform, run, extracted, quality_run_id, transformed, built, solved)
    return publish(platform, run, execution)
