"""Read and write the simulator's fault ground truth (fault_labels, sql/016)."""

from __future__ import annotations

from dataclasses import astuple, fields

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from data_engineering.contracts.faults import FaultLabel

_COLUMNS = tuple(f.name for f in fields(FaultLabel))
_UPSERT = sql.SQL("INSERT INTO fault_labels ({cols}) VALUES ({values})"
                  " ON CONFLICT (fault_id) DO UPDATE SET {set}").format(
    cols=sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)),
    values=sql.SQL(", ").join(sql.Placeholder() * len(_COLUMNS)),
    set=sql.SQL(", ").join(sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in _COLUMNS[1:]))


def write_fault_labels(conn: psycopg.Connection, labels: list[FaultLabel]) -> None:
    """Upsert by fault id (a run registered again rewrites its own labels). In the caller's transaction."""
    with conn.cursor() as cur:
        cur.executemany(_UPSERT, [(*astuple(label)[:-2], Jsonb(label.parameters), label.is_simulation)
                                  for label in labels])


def read_fault_labels(conn: psycopg.Connection, start: object, end: object) -> list[FaultLabel]:
    """The labels of faults that start in [start, end)."""
    query = sql.SQL("SELECT {} FROM fault_labels WHERE start_ts >= %s AND start_ts < %s ORDER BY fault_id").format(
        sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)))
    return [FaultLabel(*row) for row in conn.execute(query, (start, end))]
