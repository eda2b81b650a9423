"""What the routes read and write, as parameterised SQL (table and column names are constants
chosen by an enum, never caller text)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from data_engineering.analytics.queries import query


class ResultTable(StrEnum):
    dispatch = "dispatch"
    lmps = "lmps"
    flows = "flows"
    binding = "binding"
    convergence = "convergence"
    unserved = "unserved"


RESULT_SQL = {
    ResultTable.dispatch: "SELECT interval, ts, gen_id, bus_id, p_mw FROM lascopf_dispatch"
                          " WHERE execution_id = %s ORDER BY interval, gen_id",
    ResultTable.lmps: "SELECT interval, ts, bus_id, load_mw, shed_mw, lmp_usd_mwh, energy_usd_mwh, congestion_usd_mwh"
                      " FROM lascopf_lmps"
                      " WHERE execution_id = %s ORDER BY interval, bus_id",
    ResultTable.flows: "SELECT interval, ts, scenario, branch_id, flow_mw, limit_mw, loading_pct FROM lascopf_flows"
                       " WHERE execution_id = %s ORDER BY interval, scenario, branch_id",
    ResultTable.binding: "SELECT interval, branch_id, contingency, flow_mw, limit_mw, shadow_price_usd_mwh"
                         " FROM lascopf_binding_constraints WHERE execution_id = %s"
                         " ORDER BY interval, branch_id, contingency",
    ResultTable.convergence: "SELECT iteration, primal_residual_mw, dual_residual_usd_mwh, rho, objective_usd,"
                             " scenarios FROM lascopf_convergence WHERE execution_id = %s ORDER BY iteration",
    ResultTable.unserved: "SELECT interval, ts, scenario, bus_id, unserved_mw FROM lascopf_unserved"
                          " WHERE execution_id = %s ORDER BY interval, scenario, bus_id",
}


def _all(conn: psycopg.Connection, statement: str, params: tuple | dict) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(statement, params).fetchall()


def _one(conn: psycopg.Connection, statement: str, params: tuple | dict) -> dict | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(statement, params).fetchone()


def execution(conn: psycopg.Connection, execution_id: uuid.UUID) -> dict | None:
    return _one(conn, "SELECT * FROM lascopf_executions WHERE execution_id = %s", (execution_id,))


def run_request(conn: psycopg.Connection, execution_id: uuid.UUID) -> dict | None:
    return _one(conn, "SELECT request_id AS execution_id, status, message, requested_at FROM lascopf_run_requests"
                      " WHERE request_id = %s", (execution_id,))


def result_rows(conn: psycopg.Connection, table: ResultTable, execution_id: uuid.UUID, limit: int | None = None,
                offset: int = 0) -> list[dict]:
    return _all(conn, RESULT_SQL[table] + " LIMIT %s OFFSET %s", (execution_id, limit, offset))


def stream_result_rows(conn: psycopg.Connection, table: ResultTable, execution_id: uuid.UUID):  # noqa: ANN201
    """Column names, then rows, read with a server-side cursor (CSV export of any size)."""
    with conn.transaction(), conn.cursor(name=f"export_{table.value}") as cur:
        cur.execute(RESULT_SQL[table], (execution_id,))
        yield [d.name for d in cur.description]
        while rows := cur.fetchmany(5_000):
            yield from rows


# A request is pending while queued or running with no stored execution; one whose end never
# reached the API (an Airflow run deleted, say) stops counting after PENDING_MAX_AGE.
PENDING = """
    status IN ('queued', 'running') AND requested_at > now() - %(max_age)s::interval
    AND NOT EXISTS (SELECT 1 FROM lascopf_executions e WHERE e.execution_id = r.request_id)
"""
PENDING_MAX_AGE = "6 hours"


def queue_run_request(conn: psycopg.Connection, execution_id: uuid.UUID, run_key: str, requested_by: str,
                      window_end: datetime, reason: str, launcher: str, queue_max: int) -> dict | None:
    """Inside the caller's transaction, serialised with every other caller: the pending request for
    the same window_end if there is one (`duplicate` true), else the new one, else None when
    `queue_max` requests are pending already."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('lascopf_run_requests'))")
    params = {"max_age": PENDING_MAX_AGE, "window_end": window_end}
    same = _one(conn, f"SELECT request_id AS execution_id, run_key, status, launcher, true AS duplicate"  # noqa: S608
                      f" FROM lascopf_run_requests r WHERE window_end = %(window_end)s AND {PENDING}"
                      " ORDER BY requested_at LIMIT 1", params)
    if same is not None:
        return same
    pending = conn.execute(f"SELECT count(*) FROM lascopf_run_requests r WHERE {PENDING}", params)  # noqa: S608
    if pending.fetchone()[0] >= queue_max:
        return None
    conn.execute("INSERT INTO lascopf_run_requests (request_id, run_key, requested_by, window_end, reason, launcher)"
                 " VALUES (%s, %s, %s, %s, %s, %s)", (execution_id, run_key, requested_by, window_end, reason,
                                                      launcher))
    return {"execution_id": execution_id, "run_key": run_key, "status": "queued", "launcher": launcher,
            "duplicate": False}


def fail_unfinished_run_requests(conn: psycopg.Connection, launcher: str, message: str,
                                 request_ids: list[uuid.UUID] | None = None) -> int:
    """Queued or running requests of a launcher (or only `request_ids`) marked failed with the reason."""
    return conn.execute("UPDATE lascopf_run_requests SET status = 'failed', message = %s, updated_at = now()"
                        " WHERE launcher = %s AND status IN ('queued', 'running')"
                        " AND (%s::uuid[] IS NULL OR request_id = ANY(%s::uuid[]))",
                        (message, launcher, request_ids, request_ids)).rowcount


def unfinished_run_requests(conn: psycopg.Connection, launcher: str) -> list[tuple[uuid.UUID, str]]:
    """(request id, run key) of a launcher's queued or running requests."""
    return conn.execute("SELECT request_id, run_key FROM lascopf_run_requests WHERE launcher = %s"
                        " AND status IN ('queued', 'running') ORDER BY requested_at", (launcher,)).fetchall()


def record_call(conn: psycopg.Connection, caller: str, action: str, status: int, detail: dict) -> None:
    """The audit table's row for a call that asks for work (a run, a DR estimate)."""
    conn.execute("INSERT INTO api_audit (caller, action, status, detail) VALUES (%s, %s, %s, %s)",
                 (caller, action, status, Jsonb(detail)))


def update_run_request(conn: psycopg.Connection, execution_id: uuid.UUID, status: str, message: str = "") -> None:
    """Only a queued or running request moves: a finished one (failed by a shutdown, say) stays so,
    whatever a worker thread still running writes afterwards."""
    conn.execute("UPDATE lascopf_run_requests SET status = %s, message = %s, updated_at = now()"
                 " WHERE request_id = %s AND status IN ('queued', 'running')", (status, message[:2000], execution_id))


def pole_exists(conn: psycopg.Connection, pole_id: str) -> bool:
    return conn.execute("SELECT 1 FROM poles WHERE pole_id = %s", (pole_id,)).fetchone() is not None


def pole_summary(conn: psycopg.Connection, pole_id: str, start: datetime, end: datetime) -> dict:
    return _one(conn, query("pole_summary"), {"pole_id": pole_id, "start": start, "end": end})


SAG_EVENTS = """
    SELECT meter_id, pole_id, start_ts, end_ts, samples, duration_s, min_voltage_v, min_vm_pu, severity,
           count(*) OVER () AS total
    FROM voltage_sag_events
    WHERE start_ts >= %(start)s AND start_ts < %(end)s
      AND (%(pole)s::text IS NULL OR pole_id = %(pole)s)
      AND (%(severity)s::text IS NULL OR severity = %(severity)s)
    ORDER BY start_ts, meter_id
    LIMIT %(limit)s OFFSET %(offset)s
"""


def sag_events(conn: psycopg.Connection, start: datetime, end: datetime, pole_id: str | None, severity: str | None,
               limit: int, offset: int) -> tuple[list[dict], int | None]:
    """A page of events and the total matching (None on a page past the end, which cannot tell)."""
    rows = _all(conn, SAG_EVENTS, {"start": start, "end": end, "pole": pole_id, "severity": severity,
                                   "limit": limit, "offset": offset})
    total = rows[0]["total"] if rows else (0 if offset == 0 else None)
    return [{k: v for k, v in r.items() if k != "total"} for r in rows], total


ANOMALY_EVENTS = """
    SELECT e.window_start, e.window_end, e.target_kind, e.target_id, e.predicted_kind, e.score, e.model_id,
           m.detector, m.version, e.is_simulation, count(*) OVER () AS total
    FROM anomaly_events e JOIN anomaly_models m USING (model_id)
    WHERE e.window_start >= %(start)s AND e.window_start < %(end)s
      AND (%(target_kind)s::text IS NULL OR e.target_kind = %(target_kind)s)
      AND (%(kind)s::text IS NULL OR e.predicted_kind = %(kind)s)
    ORDER BY e.window_start DESC, e.target_kind, e.target_id, e.predicted_kind, e.model_id
    LIMIT %(limit)s OFFSET %(offset)s
"""


def anomaly_events(conn: psycopg.Connection, start: datetime, end: datetime, target_kind: str | None,
                   kind: str | None, limit: int, offset: int) -> tuple[list[dict], int | None]:
    """A page of flagged windows, newest first, with the detector version that flagged each, and the
    total matching (None on a page past the end)."""
    rows = _all(conn, ANOMALY_EVENTS, {"start": start, "end": end, "target_kind": target_kind, "kind": kind,
                                       "limit": limit, "offset": offset})
    total = rows[0]["total"] if rows else (0 if offset == 0 else None)
    return [{k: v for k, v in r.items() if k != "total"} for r in rows], total


def live_readings(conn: psycopg.Connection, pole_id: str, after: tuple[datetime, str],
                  until: tuple[datetime, str] | None = None, limit: int = 1_000) -> list[dict]:
    """A pole's readings after the (event_ts, meter_id) cursor, up to `until` if given, oldest first
    (a page cut inside one timestamp resumes at the next meter, not the next timestamp)."""
    until_ts, until_meter = until or (None, None)
    return _all(conn, LIVE_READINGS, {"ts": after[0], "meter": after[1], "pole": pole_id, "until_ts": until_ts,
                                      "until_meter": until_meter, "limit": limit})


LIVE_READINGS = """
    SELECT event_ts, meter_id, seq, voltage_v, current_a, power_kw, freq_hz FROM ami_readings
    WHERE event_ts >= %(ts)s AND (event_ts, meter_id) > (%(ts)s, %(meter)s) AND pole_id = %(pole)s
      AND (%(until_ts)s::timestamptz IS NULL OR (event_ts, meter_id) <= (%(until_ts)s, %(until_meter)s::text))
    ORDER BY event_ts, meter_id LIMIT %(limit)s
"""


# The latest status change up to `at` overrides the model's own in_service.
BRANCHES_AT = """
    SELECT b.branch_id, b.from_bus_id, b.to_bus_id, b.x_pu, b.rate_a_mw,
           coalesce(ev.in_service, b.in_service) AS in_service
    FROM network_branches b
    LEFT JOIN LATERAL (SELECT e.in_service FROM topology_events e
                       WHERE e.element_type = 'branch' AND e.element_id = b.branch_id AND e.ts <= %(at)s
                       ORDER BY e.ts DESC LIMIT 1) ev ON true
    WHERE b.version_id = %(version)s ORDER BY b.branch_id
"""
GENERATORS_AT = """
    SELECT g.gen_id, g.bus_id, g.pmin_mw, g.pmax_mw, coalesce(ev.in_service, g.in_service) AS in_service
    FROM network_generators g
    LEFT JOIN LATERAL (SELECT e.in_service FROM topology_events e
                       WHERE e.element_type = 'generator' AND e.element_id = g.gen_id AND e.ts <= %(at)s
                       ORDER BY e.ts DESC LIMIT 1) ev ON true
    WHERE g.version_id = %(version)s ORDER BY g.gen_id
"""


def topology(conn: psycopg.Connection, at: datetime) -> dict:
    """The network model in force at `at` with the status changes up to it, and the feeders."""
    head = _one(conn, "SELECT version_id, name FROM network_model_versions WHERE valid_from <= %s"
                      " ORDER BY valid_from DESC, version_id DESC LIMIT 1", (at,))
    version = head["version_id"] if head else None
    branches = _all(conn, BRANCHES_AT, {"at": at, "version": version})
    generators = _all(conn, GENERATORS_AT, {"at": at, "version": version})
    feeders = _all(conn, "SELECT f.feeder_id, f.bus_id, count(DISTINCT p.pole_id)::integer AS poles,"
                         " count(m.meter_id)::integer AS meters FROM feeders f LEFT JOIN poles p USING (feeder_id)"
                         " LEFT JOIN meters m USING (pole_id) GROUP BY f.feeder_id, f.bus_id ORDER BY f.feeder_id", ())
    buses = [r[0] for r in conn.execute("SELECT bus_id FROM network_buses ORDER BY bus_id")]
    return {"at": at, "network_version": version, "network_name": head["name"] if head else None, "buses": buses,
            "branches": branches, "generators": generators, "feeders": feeders}

