"""What the routes read and write, as parameterised SQL (table and column names are constants
chosen by an enum, never caller text)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import psycopg
from psycopg.rows import dict_row

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


def insert_run_request(conn: psycopg.Connection, execution_id: uuid.UUID, run_key: str, requested_by: str,
                       window_end: datetime, reason: str, launcher: str) -> None:
    conn.execute("INSERT INTO lascopf_run_requests (request_id, run_key, requested_by, window_end, reason, launcher)"
                 " VALUES (%s, %s, %s, %s, %s, %s)", (execution_id, run_key, requested_by, window_end, reason,
                                                      launcher))


def update_run_request(conn: psycopg.Connection, execution_id: uuid.UUID, status: str, message: str = "") -> None:
    conn.execute("UPDATE lascopf_run_requests SET status = %s, message = %s, updated_at = now()"
                 " WHERE request_id = %s", (status, message[:2000], execution_id))


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


def live_readings(conn: psycopg.Connection, pole_id: str, after: tuple[datetime, str], limit: int = 1_000,
                  ) -> list[dict]:
    """A pole's readings after the (event_ts, meter_id) cursor, oldest first (a page cut inside one
    timestamp resumes at the next meter, not the next timestamp)."""
    return _all(conn, "SELECT event_ts, meter_id, seq, voltage_v, current_a, power_kw, freq_hz FROM ami_readings"
                      " WHERE event_ts >= %s AND (event_ts, meter_id) > (%s, %s) AND pole_id = %s"
                      " ORDER BY event_ts, meter_id LIMIT %s", (after[0], after[0], after[1], pole_id, limit))


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

