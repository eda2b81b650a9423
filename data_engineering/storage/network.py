"""The versioned network model: register a case's network (content-addressed), and read back the
model in force at a time with the topology events up to then applied.

Ramp limits are stored as rates (MW/min) so one network serves any interval length."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import psycopg

from data_engineering.solver.case import Branches, Buses, Case, Generators


@dataclass(frozen=True)
class NetworkModel:
    """A stored network version as a `Case` skeleton (no loads, P0 zero) plus what is switched out."""

    version_id: int
    name: str
    case: Case
    out_of_service: tuple[str, ...]  # elements switched out by topology events


def _finite_or_none(values: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in values]


def network_rows(case: Case) -> tuple[list[tuple], list[tuple]]:
    ids, b, g = case.buses.ids, case.branches, case.generators
    branches = [(name, int(ids[f]), int(ids[t]), float(x), ra, rc, bool(s)) for name, f, t, x, ra, rc, s in zip(
        b.names, b.from_bus, b.to_bus, b.x_pu, _finite_or_none(b.rate_mw), _finite_or_none(b.emergency_mw),
        b.in_service, strict=True)]
    per_min = 1.0 / case.interval_minutes
    gens = [(name, int(ids[bus]), float(lo), float(hi), float(c2), float(c1), float(c0), float(up * per_min),
             float(down * per_min)) for name, bus, lo, hi, c2, c1, c0, up, down in zip(
        g.names, g.bus, g.pmin_mw, g.pmax_mw, g.c2, g.c1, g.c0, g.ramp_up_mw, g.ramp_down_mw, strict=True)]
    return branches, gens


def content_hash(case: Case, branches: list[tuple], gens: list[tuple]) -> str:
    body = {"base_mva": case.base_mva, "ref": int(case.buses.ids[case.buses.ref]),
            "buses": case.buses.ids.tolist(), "branches": branches, "generators": gens}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def register_network(conn: psycopg.Connection, case: Case, valid_from: datetime, source: str) -> int:
    """Store `case`'s network as a version (buses must exist in `network_buses`); an identical
    network already stored keeps its version, and is valid from `valid_from` when that is earlier and
    no other version starts in between (a replay of an earlier window registers the same grid: it was
    in force then too, but what another version says of its own time stays). In the caller's
    transaction."""
    branches, gens = network_rows(case)
    digest = content_hash(case, branches, gens)
    row = conn.execute("SELECT version_id FROM network_model_versions WHERE content_hash = %s", (digest,)).fetchone()
    if row:
        conn.execute(
            "UPDATE network_model_versions AS v SET valid_from = %s WHERE v.version_id = %s AND v.valid_from > %s"
            " AND NOT EXISTS (SELECT 1 FROM network_model_versions o WHERE o.version_id <> v.version_id"
            " AND o.valid_from >= %s AND o.valid_from < v.valid_from)",
            (valid_from, row[0], valid_from, valid_from))
        return row[0]
    version = conn.execute(
        "INSERT INTO network_model_versions (name, content_hash, valid_from, base_mva, ref_bus_id, source, notes)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING version_id",
        (case.name, digest, valid_from, case.base_mva, int(case.buses.ids[case.buses.ref]), source,
         list(case.notes))).fetchone()[0]
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO network_branches (version_id, branch_id, from_bus_id, to_bus_id, x_pu,"
                        " rate_a_mw, rate_c_mw, in_service) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                        [(version, *r) for r in branches])
        cur.executemany("INSERT INTO network_generators (version_id, gen_id, bus_id, pmin_mw, pmax_mw,"
                        " cost_c2_usd_mw2h, cost_c1_usd_mwh, cost_c0_usd_h, ramp_up_mw_per_min,"
                        " ramp_down_mw_per_min) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        [(version, *r) for r in gens])
    return version


def network_at(conn: psycopg.Connection, at: datetime, interval_minutes: float) -> NetworkModel:
    """The network in force at `at`, ramps scaled to `interval_minutes`, with branch and unit
    status changes from `topology_events` up to `at` applied (a unit out of service is left out;
    a branch out of service is kept, marked so)."""
    head = conn.execute(
        "SELECT version_id, name, base_mva, ref_bus_id, notes FROM network_model_versions WHERE valid_from <= %s"
        " ORDER BY valid_from DESC, version_id DESC LIMIT 1", (at,)).fetchone()
    if head is None:
        raise LookupError(f"no network model version valid at {at.isoformat()}; register one first")
    version, name, base_mva, ref_bus, notes = head
    bus_ids = np.array([r[0] for r in conn.execute("SELECT bus_id FROM network_buses ORDER BY bus_id")], dtype=int)
    position = {int(b): i for i, b in enumerate(bus_ids)}
    status = dict(((kind, element), bool(up)) for kind, element, up in conn.execute(
        "SELECT DISTINCT ON (element_type, element_id) element_type, element_id, in_service FROM topology_events"
        " WHERE ts <= %s ORDER BY element_type, element_id, ts DESC", (at,)))
    br = conn.execute("SELECT branch_id, from_bus_id, to_bus_id, x_pu, rate_a_mw, rate_c_mw, in_service"
                      " FROM network_branches WHERE version_id = %s ORDER BY branch_id", (version,)).fetchall()
    gn = conn.execute("SELECT gen_id, bus_id, pmin_mw, pmax_mw, cost_c2_usd_mw2h, cost_c1_usd_mwh, cost_c0_usd_h,"
                      " ramp_up_mw_per_min, ramp_down_mw_per_min, in_service FROM network_generators"
                      " WHERE version_id = %s ORDER BY gen_id", (version,)).fetchall()
    branch_up = np.array([status.get(("branch", r[0]), r[6]) for r in br], dtype=bool)
    gen_down = tuple(r[0] for r in gn if not status.get(("generator", r[0]), r[9]))
    gn = [r for r in gn if r[0] not in gen_down]
    nan_inf = np.vectorize(lambda v: np.inf if v is None else v, otypes=[float])
    branches = Branches(
        from_bus=np.array([position[r[1]] for r in br], dtype=int), to_bus=np.array([position[r[2]] for r in br],
                                                                                    dtype=int),
        x_pu=np.array([r[3] for r in br], dtype=float), rate_mw=nan_inf([r[4] for r in br]),
        emergency_mw=nan_inf([r[5] for r in br]), in_service=branch_up, names=tuple(r[0] for r in br))
    col = lambda k: np.array([r[k] for r in gn], dtype=float)  # noqa: E731
    generators = Generators(
        bus=np.array([position[r[1]] for r in gn], dtype=int), c2=col(4), c1=col(5), c0=col(6),
        pmin_mw=col(2), pmax_mw=col(3),
        ramp_up_mw=col(7) * interval_minutes, ramp_down_mw=col(8) * interval_minutes,
        p0_mw=np.zeros(len(gn)), names=tuple(r[0] for r in gn))
    case = Case(name=name, base_mva=base_mva, buses=Buses(bus_ids, position[ref_bus]), branches=branches,
                generators=generators, load_mw=np.zeros((1, len(bus_ids))), interval_minutes=interval_minutes,
                notes=tuple(notes))
    down = tuple(f"branch {n}" for n, up in zip(branches.names, branch_up, strict=True) if not up) + tuple(
        f"generator {n}" for n in gen_down)
    return NetworkModel(version, name, case, down)
