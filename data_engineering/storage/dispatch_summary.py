"""A stored execution at a glance: for the publish step, the CLI and the report."""

from __future__ import annotations

import uuid

from data_engineering.storage.database import Database


def execution_summary(db: Database, execution_id: uuid.UUID) -> dict:
    with db.connect(autocommit=True) as conn:
        cur = conn.execute(
            "SELECT e.execution_id, e.run_key, e.status, e.objective_usd, e.solve_time_s, e.iterations, e.method,"
            " e.case_name, e.case_hash, e.horizon_start, e.intervals, e.contingencies, e.shed_mw,"
            " e.forecast_mape_pct, e.persistence_mape_pct,"
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
