"""Write a LASCOPF execution and its results (dispatch, LMPs, flows per scenario, binding
constraints, convergence) to PostgreSQL. Idempotent on the execution id: the execution row is
upserted and its child rows replaced, all in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import psycopg

from data_engineering.solver.case import Case
from data_engineering.solver.model import build_model
from data_engineering.solver.options import SolveOptions

CHILD_TABLES = ("lascopf_dispatch", "lascopf_lmps", "lascopf_flows", "lascopf_binding_constraints",
                "lascopf_convergence", "lascopf_unserved", "lascopf_forecast_band", "lascopf_forecast_scores")


@dataclass(frozen=True)
class ExecutionRecord:
    execution_id: uuid.UUID
    run_key: str
    case_key: str
    case_hash: str
    network_version: int | None
    window_start: datetime
    window_end: datetime
    quality_run_id: uuid.UUID | None
    decomposition: str | None  # "interval" (ADMM) or None (centralized); older runs: "scenario"
    forecast_mape_pct: float | None = None
    persistence_mape_pct: float | None = None
    spread_secured: bool = False
    p50_objective_usd: float | None = None  # the same case for its P50 load alone (when secured for the band)


@dataclass(frozen=True)
class ForecastBand:
    """System load per look-ahead interval: bus P10 / P50 / P90 forecasts summed."""

    p10_mw: pd.Series
    p50_mw: pd.Series
    p90_mw: pd.Series

    def rows(self) -> list[tuple]:
        return [(i + 1, ts, float(lo), float(mid), float(hi)) for i, (ts, lo, mid, hi) in
                enumerate(zip(self.p50_mw.index, self.p10_mw, self.p50_mw, self.p90_mw, strict=True))]


def _matrix(per_name: dict[str, list[float]], names: Sequence[str], shape: tuple[int, int]) -> np.ndarray:
    if not per_name:
        return np.zeros(shape)
    return np.array([per_name[str(n)] for n in names], dtype=float).T


def contingency_flows(case: Case, result: dict, flows: np.ndarray) -> np.ndarray:
    """(T, C, L) post-contingency flows of a stored result: its base flows, moved by each outage's
    re-dispatch or pickup (`scenario_dispatch`) and cut-off load (`unserved`), then by the branch
    outage (LODF). The model is built only for its network sensitivities."""
    model = build_model(case, SolveOptions(islanding="shed"))
    T, buses = case.intervals, [str(b) for b in case.buses.ids]
    dispatch = _matrix(result["dispatch"], case.generators.names, (T, case.generators.n))
    shed = _matrix(result.get("shed") or {}, buses, (T, case.buses.n))
    moved = np.zeros((T, len(case.contingencies), case.buses.n))
    for j, c in enumerate(case.contingencies):
        if c.label in (result.get("scenario_dispatch") or {}):
            redispatch = _matrix(result["scenario_dispatch"][c.label], case.generators.names, dispatch.shape)
            np.add.at(moved[:, j].T, case.generators.bus, (redispatch - dispatch).T)
        cut = (result.get("unserved") or {}).get(c.label, {})
        for bus, values in cut.items():
            k = buses.index(bus)
            moved[:, j, k] += np.asarray(values) - shed[:, k]
    scenarios = np.arange(1, model.n_scenarios)
    return model.shifted_flows(flows, scenarios, np.arange(len(scenarios)), moved)


def flow_rows(case: Case, result: dict, flows: np.ndarray, times: pd.DatetimeIndex,
              min_contingency_loading_pct: float) -> list:
    """Base-case flows of every branch; post-contingency flows at or above the loading threshold
    against the emergency rating."""
    br = case.branches
    rows = []
    for t in range(case.intervals):
        for name, f, limit in zip(br.names, flows[t], br.rate_mw, strict=True):
            finite = bool(np.isfinite(limit))
            rows.append((t + 1, times[t], "base", name, float(f), float(limit) if finite else None,
                         float(100 * abs(f) / limit) if finite else None))
    if not case.contingencies:
        return rows
    for c, post in zip(case.contingencies, contingency_flows(case, result, flows).transpose(1, 0, 2), strict=True):
        with np.errstate(divide="ignore", invalid="ignore"):
            loading = 100 * np.abs(post) / br.emergency_mw
        for t, line in zip(*np.nonzero(np.isfinite(loading) & (loading >= min_contingency_loading_pct)), strict=True):
            rows.append((int(t) + 1, times[t], c.label, br.names[line], float(post[t, line]),
                         float(br.emergency_mw[line]), float(loading[t, line])))
    return rows


def store_execution(conn: psycopg.Connection, record: ExecutionRecord, case: Case, result: dict,
                    times: pd.DatetimeIndex, min_contingency_loading_pct: float = 80.0) -> None:
    """`result` is the solver's JSON record (`SolveResult.to_json`). In the caller's transaction."""
    t, names, buses = case.intervals, case.generators.names, case.buses.ids
    shed = _matrix(result.get("shed") or {}, [str(b) for b in buses], (t, len(buses)))
    conn.execute(
        "INSERT INTO lascopf_executions (execution_id, run_key, status, message, objective_usd, solve_time_s,"
        " iterations, method, decomposition, case_name, case_hash, case_key, network_version, intervals,"
        " interval_minutes, contingencies, max_violation_pu, shed_mw, window_start, window_end, horizon_start,"
        " quality_run_id, forecast_mape_pct, persistence_mape_pct, infeasible_contingencies, mode, spread_secured,"
        " p50_objective_usd)"
        " VALUES (%(id)s, %(run_key)s, %(status)s, %(message)s, %(objective)s, %(time)s, %(iterations)s, %(method)s,"
        " %(decomposition)s, %(case)s, %(hash)s, %(key)s, %(network)s, %(t)s, %(minutes)s, %(contingencies)s,"
        " %(violation)s, %(shed)s, %(ws)s, %(we)s, %(hs)s, %(quality)s, %(mape)s, %(pmape)s, %(infeasible)s, %(mode)s,"
        " %(secured)s, %(p50)s)"
        " ON CONFLICT (execution_id) DO UPDATE SET run_key = EXCLUDED.run_key, status = EXCLUDED.status,"
        " message = EXCLUDED.message, objective_usd = EXCLUDED.objective_usd, solve_time_s = EXCLUDED.solve_time_s,"
        " iterations = EXCLUDED.iterations, method = EXCLUDED.method, decomposition = EXCLUDED.decomposition,"
        " case_name = EXCLUDED.case_name, case_hash = EXCLUDED.case_hash, case_key = EXCLUDED.case_key,"
        " network_version = EXCLUDED.network_version, intervals = EXCLUDED.intervals,"
        " interval_minutes = EXCLUDED.interval_minutes, contingencies = EXCLUDED.contingencies,"
        " max_violation_pu = EXCLUDED.max_violation_pu, shed_mw = EXCLUDED.shed_mw,"
        " window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end,"
        " horizon_start = EXCLUDED.horizon_start, quality_run_id = EXCLUDED.quality_run_id,"
        " forecast_mape_pct = EXCLUDED.forecast_mape_pct, persistence_mape_pct = EXCLUDED.persistence_mape_pct,"
        " infeasible_contingencies = EXCLUDED.infeasible_contingencies, mode = EXCLUDED.mode,"
        " spread_secured = EXCLUDED.spread_secured, p50_objective_usd = EXCLUDED.p50_objective_usd, updated_at = now()",
        {"id": record.execution_id, "run_key": record.run_key, "status": result["status"],
         "message": result.get("message", ""), "objective": result.get("objective"),
         "time": result.get("solve_time_s", 0.0), "iterations": result.get("iterations", 0),
         "method": result["method"], "decomposition": record.decomposition, "case": case.name,
         "hash": record.case_hash, "key": record.case_key, "network": record.network_version, "t": t,
         "minutes": case.interval_minutes, "contingencies": len(case.contingencies),
         "violation": result.get("max_violation_pu"), "shed": float(shed.sum()), "ws": record.window_start,
         "we": record.window_end, "hs": times[0], "quality": record.quality_run_id,
         "mape": record.forecast_mape_pct, "pmape": record.persistence_mape_pct,
         "infeasible": result.get("infeasible_contingencies", []), "mode": result.get("mode", "preventive"),
         "secured": record.spread_secured, "p50": record.p50_objective_usd})
    for table in CHILD_TABLES:
        conn.execute(psycopg.sql.SQL("DELETE FROM {} WHERE execution_id = %s").format(psycopg.sql.Identifier(table)),
                     (record.execution_id,))
    if result["status"] != "optimal":
        _insert(conn, "lascopf_convergence", _convergence(result), record.execution_id)
        return
    dispatch = _matrix(result["dispatch"], names, (t, len(names)))
    lmp = _matrix(result["lmp"], [str(b) for b in buses], (t, len(buses)))
    flows = _matrix(result["flows"], case.branches.names, (t, case.branches.n))
    gen_bus = case.buses.ids[case.generators.bus]
    _insert(conn, "lascopf_dispatch", [(i + 1, times[i], n, int(gen_bus[g]), float(dispatch[i, g]))
                                       for i in range(t) for g, n in enumerate(names)], record.execution_id)
    energy, congestion = lmp_components(case, result, lmp)
    _insert(conn, "lascopf_lmps", [(i + 1, times[i], int(b), float(case.load_mw[i, k]), float(shed[i, k]),
                                    float(lmp[i, k]), float(energy[i]), float(congestion[i, k]))
                                   for i in range(t) for k, b in enumerate(buses)], record.execution_id)
    _insert(conn, "lascopf_unserved", [(i + 1, times[i], scenario, int(bus), float(values[i]))
                                       for scenario, per_bus in (result.get("unserved") or {}).items()
                                       for bus, values in per_bus.items() for i in range(t)], record.execution_id)
    _insert(conn, "lascopf_flows", flow_rows(case, result, flows, times, min_contingency_loading_pct),
            record.execution_id)
    _insert(conn, "lascopf_binding_constraints",
            [(b["interval"], b["branch"], b["contingency"] or "base", b["flow_mw"], b["limit_mw"], b["shadow_price"])
             for b in result.get("binding_constraints", [])], record.execution_id)
    _insert(conn, "lascopf_convergence", _convergence(result), record.execution_id)


def store_forecast(conn: psycopg.Connection, execution_id: uuid.UUID, band: ForecastBand, backtest: dict) -> None:
    """The forecast behind an execution: its system band and its backtest scores (`Backtest.as_dict`),
    after `store_execution` in the same transaction (which cleared an earlier attempt's rows)."""
    _insert(conn, "lascopf_forecast_band", band.rows(), execution_id)
    _insert(conn, "lascopf_forecast_scores",
            [(method, backtest["horizon"], s["origins"], s["mae_mw"], s["mape_pct"], s["pinball_mw"], s["crps_mw"],
              s["rcrps"], s["coverage"], s["nominal_coverage"]) for method, s in backtest["scores"].items()],
            execution_id)


def lmp_components(case: Case, result: dict, lmp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T,) energy and (T, N) congestion components; from an older record without them, the energy
    component is the reference bus's price (lossless DC), as the solver defines it."""
    buses = [str(b) for b in case.buses.ids]
    energy = np.asarray(result.get("lmp_energy") or lmp[:, case.buses.ref], dtype=float)
    congestion = result.get("lmp_congestion") or {}
    return energy, (_matrix(congestion, buses, lmp.shape) if congestion else lmp - energy[:, None])


def _convergence(result: dict) -> list[tuple]:
    return [(h["iteration"], h["primal_residual_mw"], h["dual_residual"], h["rho"], h["objective"], h["scenarios"])
            for h in result.get("history", [])]


_COLUMNS = {
    "lascopf_dispatch": "interval, ts, gen_id, bus_id, p_mw",
    "lascopf_lmps": "interval, ts, bus_id, load_mw, shed_mw, lmp_usd_mwh, energy_usd_mwh, congestion_usd_mwh",
    "lascopf_unserved": "interval, ts, scenario, bus_id, unserved_mw",
    "lascopf_flows": "interval, ts, scenario, branch_id, flow_mw, limit_mw, loading_pct",
    "lascopf_binding_constraints": "interval, branch_id, contingency, flow_mw, limit_mw, shadow_price_usd_mwh",
    "lascopf_convergence": "iteration, primal_residual_mw, dual_residual_usd_mwh, rho, objective_usd, scenarios",
    "lascopf_forecast_band": "interval, ts, p10_mw, p50_mw, p90_mw",
    "lascopf_forecast_scores": "method, horizon_intervals, origins, mae_mw, mape_pct, pinball_mw, crps_mw, rcrps,"
                               " coverage, nominal_coverage",
}


def _insert(conn: psycopg.Connection, table: str, rows: list[tuple], execution_id: uuid.UUID) -> None:
    """COPY: results can run to hundreds of thousands of flow rows."""
    if not rows:
        return
    columns = [c.strip() for c in _COLUMNS[table].split(",")]
    statement = psycopg.sql.SQL("COPY {} ({}) FROM STDIN").format(
        psycopg.sql.Identifier(table), psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, ["execution_id",
                                                                                              *columns])))
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row((execution_id, *row))
