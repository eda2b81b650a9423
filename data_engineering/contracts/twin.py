"""The digital twin graph as it crosses between the simulator, storage and the DTDL files: nodes
typed by a DTDL interface (DTMI) and named, directed relationships between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TwinNode:
    dt_id: str
    model: str  # the DTMI of the node's DTDL interface
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, order=True)
class TwinRelationship:
    source: str
    name: str
    target: str

    @property
    def relationship_id(self) -> str:
        """Unique per source, as Azure Digital Twins requires, and stable across exports."""
        return f"{self.name}-{self.target}"


@dataclass(frozen=True)
class TwinGraph:
    nodes: list[TwinNode]
    relationships: list[TwinRelationship]

    def canonical(self) -> TwinGraph:
        """Sorted, so graphs from different sources compare equal when they hold the same twin."""
        return TwinGraph(sorted(self.nodes, key=lambda n: n.dt_id), sorted(self.relationships))
