"""Stored results of the security model: LMP components, unserved load of islanding outages, and
post-contingency flows that follow a lost unit's pickup, not only the LODF of a branch."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from data_engineering.solver.case import Case
from data_engineering.solver.cases import load_case
from data_engineering.solver.contingencies import select
from data_engineering.solver.model import build_model
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.result import SolveResult
from data_engineering.solver.solve import solve_lascopf
from data_engineering.storage.results import ExecutionRecord, store_execution

START = datetime(2026, 1, 5, tzinfo=UTC)


SHED = SolveOptions(islanding="shed")


def store_islanding_execution(database) -> tuple[uuid.UUID, Case, SolveResult]:  # noqa: ANN001
    """pglib case30 with the radial outage 25-26 (solved with bus 26's load unserved) and the outage
    of unit G2, stored as the pipeline stores its runs."""
    case = select(load_case("pglib_opf_case30_ieee", 2).with_emergency_factor(1.3), "25-26,G:G2",
                  islanding="shed")[0]
    solved = solve_lascopf(case, SHED)
    assert solved.ok
    execution_id = uuid.uuid4()
    times = pd.date_range(START, periods=case.intervals, freq="1h", tz=UTC)
    record = ExecutionRecord(execution_id, "tests/storage", "cases/x", "x" * 16, None, START,
                             START + timedelta(minutes=15), None, None)
    with database.transaction() as conn:
        store_execution(conn, record, case, solved.to_json(case), times, min_contingency_loading_pct=0.0)
    return execution_id, case, solved


def test_components_unserved_load_and_unit_outage_flows_are_stored(database) -> None:  # noqa: ANN001
    execution_id, case, solved = store_islanding_execution(database)
    with database.connect() as conn:
        lmps = conn.execute("SELECT lmp_usd_mwh, energy_usd_mwh, congestion_usd_mwh FROM lascopf_lmps"
                            " WHERE execution_id = %s", (execution_id,)).fetchall()
        unserved = conn.execute("SELECT interval, scenario, bus_id, unserved_mw FROM lascopf_unserved"
                                " WHERE execution_id = %s ORDER BY interval", (execution_id,)).fetchall()
        flows = conn.execute("SELECT interval, branch_id, flow_mw FROM lascopf_flows WHERE execution_id = %s"
                             " AND scenario = 'outage G:G2'", (execution_id,)).fetchall()
        (mode,) = conn.execute("SELECT mode FROM lascopf_executions WHERE execution_id = %s",
                               (execution_id,)).fetchone()
    assert mode == "preventive"
    assert all(abs(e + c - lmp) < 2e-6 for lmp, e, c in lmps)
    bus26 = case.bus_index(26)
    assert [(i, s, b) for i, s, b, _ in unserved] == [(1, "outage 25-26", 26), (2, "outage 25-26", 26)]
    np.testing.assert_allclose([u for *_, u in unserved], case.load_mw[:, bus26])
    model = build_model(case, SHED)
    x = solved.dispatch_mw
    expected = model.scenario_flows(x, model.response(x, np.arange(model.n_scenarios)))[:, 2]
    stored = np.zeros_like(expected)
    for interval, branch, flow in flows:
        stored[interval - 1, case.branches.names.index(branch)] = flow
    np.testing.assert_allclose(stored, expected, atol=2e-5)
    assert np.abs(expected - solved.flows_mw).max() > 1.0  # the pickup moves flows: not base flows
