"""A stored execution at a glance: for the publish step, the CLI and the report."""

from __future__ import annotations

import uuid

import pandas as pd

from data_engineering.storage.database import Database


def execution_summary(db: Database, execution_id: uuid.UUID) -> dict:
    with db.connect(autocommit=True) as conn:
        cur = conn.execute(
            "SELECT e.execution_id, e.run_key, e.status, e.objective_usd, e.solve_time_s, e.iterations, e.method,"
            " e.case_name, e.case_hash, e.case_key, e.horizon_start, e.intervals, e.contingencies, e.shed_mw,"
            " e.forecast_mape_pct, e.persistence_mape_pct, e.spread_secured, e.p50_objective_usd,"
            " (SELECT count(*) FROM lascopf_binding_constraints b WHERE b.execution_id = e.execution_id)"
            " AS binding_constraints,"
            " (SELECT array_agg(DISTINCT b.contingency) FROM lascopf_binding_constraints b"
            "   WHERE b.execution_id = e.execution_id AND b.contingency <> 'base') AS binding_contingencies,"
            " (SELECT avg(l.lmp_usd_mwh) FROM lascopf_lmps l WHERE l.execution_id = e.execution_id) AS mean_lmp_usd_mwh"
            " FROM lascopf_executions e WHERE e.execution_id = %s", (execution_id,))
        row = cur.fetchone()
        if row is None:
            raise LookupError(f"no execution {execution_id}")
        return dict(zip([d.name for d in cur.description], row, strict=True))


def execution_frames(db: Database, execution_id: uuid.UUID) -> dict[str, pd.DataFrame]:
    """The result tables of one execution, for the report."""
    queries = {
        "dispatch": "SELECT interval, ts, gen_id, bus_id, p_mw FROM lascopf_dispatch WHERE execution_id = %s"
                    " ORDER BY interval, gen_id",
        "lmps": "SELECT interval, ts, bus_id, load_mw, lmp_usd_mwh, energy_usd_mwh, congestion_usd_mwh"
                " FROM lascopf_lmps WHERE execution_id = %s ORDER BY interval, bus_id",
        "unserved": "SELECT interval, scenario, bus_id, unserved_mw FROM lascopf_unserved WHERE execution_id = %s"
                    " ORDER BY interval, scenario, bus_id",
        "flows": "SELECT interval, scenario, branch_id, flow_mw, limit_mw, loading_pct FROM lascopf_flows"
                 " WHERE execution_id = %s",
        "binding": "SELECT interval, branch_id, contingency, flow_mw, limit_mw, shadow_price_usd_mwh"
                   " FROM lascopf_binding_constraints WHERE execution_id = %s ORDER BY interval, branch_id",
        "convergence": "SELECT iteration, primal_residual_mw, dual_residual_usd_mwh, rho, objective_usd"
                       " FROM lascopf_convergence WHERE execution_id = %s ORDER BY iteration",
        "band": "SELECT interval, ts, p10_mw, p50_mw, p90_mw FROM lascopf_forecast_band WHERE execution_id = %s"
                " ORDER BY interval",
        "scores": "SELECT method, origins, mae_mw, mape_pct, pinball_mw, rcrps, coverage, nominal_coverage"
                  " FROM lascopf_forecast_scores WHERE execution_id = %s ORDER BY method",
    }
    frames = {}
    with db.connect(autocommit=True) as conn:
        for name, query in queries.items():
            cur = conn.execute(query, (execution_id,))
            frames[name] = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    return frames
