"""Read and write the twin graph (twin_nodes, twin_relationships from sql/015)."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from data_engineering.contracts.twin import TwinGraph, TwinNode, TwinRelationship

_UPSERT_NODE = ("INSERT INTO twin_nodes (dt_id, model, properties) VALUES (%s, %s, %s)"
                " ON CONFLICT (dt_id) DO UPDATE SET model = EXCLUDED.model, properties = EXCLUDED.properties")
_INSERT_RELATIONSHIP = ("INSERT INTO twin_relationships (source_id, name, target_id) VALUES (%s, %s, %s)"
                        " ON CONFLICT DO NOTHING")


def write_twin(conn: psycopg.Connection, graph: TwinGraph) -> None:
    """Upsert the nodes; each written node's outgoing relationships are replaced by the graph's,
    so a meter moved to another transformer does not stay fed by both. In the caller's transaction."""
    with conn.cursor() as cur:
        cur.executemany(_UPSERT_NODE, [(n.dt_id, n.model, Jsonb(n.properties)) for n in graph.nodes])
        cur.execute("DELETE FROM twin_relationships WHERE source_id = ANY(%s)", ([n.dt_id for n in graph.nodes],))
        cur.executemany(_INSERT_RELATIONSHIP, [(r.source, r.name, r.target) for r in graph.relationships])


def read_twin(conn: psycopg.Connection) -> TwinGraph:
    nodes = [TwinNode(*row) for row in conn.execute("SELECT dt_id, model, properties FROM twin_nodes ORDER BY dt_id")]
    relationships = [TwinRelationship(*row) for row in conn.execute(
        "SELECT source_id, name, target_id FROM twin_relationships ORDER BY source_id, name, target_id")]
    return TwinGraph(nodes, relationships)
