"""Pure conversion between the twin (interfaces and graph) and DTDL v3 files: interface JSON and
the NDJSON that an Azure Digital Twins import job accepts (Header, Models, Twins, Relationships)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from data_engineering.contracts.twin import TwinGraph, TwinNode, TwinRelationship
from data_engineering.twin.ontology import Content, Interface

CONTEXT = "dtmi:dtdl:context;3"
FILE_VERSION = "1.0.0"
SECTIONS = ("Header", "Models", "Twins", "Relationships")


class DtdlFormatError(ValueError):
    pass


@dataclass(frozen=True)
class ImportFile:
    """What an NDJSON import file holds."""

    header: dict[str, Any]
    models: list[dict[str, Any]]
    graph: TwinGraph


def _content_document(content: Content) -> dict[str, Any]:
    doc: dict[str, Any] = {"@type": content.kind, "name": content.name}
    if content.kind == "Relationship":
        doc["target"] = content.target
    else:
        doc["schema"] = content.schema
    if content.description:
        doc["description"] = content.description
    return doc


def interface_document(interface: Interface) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": interface.dtmi,
        "@type": "Interface",
        "displayName": interface.name,
        "description": interface.description,
    }
    if interface.extends:
        doc["extends"] = list(interface.extends)
    doc["contents"] = [_content_document(c) for c in interface.contents]
    return doc


def twin_document(node: TwinNode) -> dict[str, Any]:
    return {"$dtId": node.dt_id, "$metadata": {"$model": node.model}, **node.properties}


def relationship_document(rel: TwinRelationship) -> dict[str, Any]:
    return {"$dtId": rel.source, "$relationshipId": rel.relationship_id, "$targetId": rel.target,
            "$relationshipName": rel.name}


def _lines(section: str, docs: Iterable[dict[str, Any]]) -> list[str]:
    return [json.dumps({"Section": section}), *(json.dumps(d, sort_keys=True) for d in docs)]


def to_ndjson(models: list[dict[str, Any]], graph: TwinGraph, author: str = "PowerLASCOPF") -> str:
    graph = graph.canonical()
    lines = [
        *_lines("Header", [{"fileVersion": FILE_VERSION, "author": author, "organization": author}]),
        *_lines("Models", models),
        *_lines("Twins", (twin_document(n) for n in graph.nodes)),
        *_lines("Relationships", (relationship_document(r) for r in graph.relationships)),
    ]
    return "\n".join(lines) + "\n"


def _node(doc: dict[str, Any]) -> TwinNode:
    try:
        return TwinNode(doc["$dtId"], doc["$metadata"]["$model"],
                        {k: v for k, v in doc.items() if not k.startswith("$")})
    except (KeyError, TypeError) as exc:
        raise DtdlFormatError(f"twin without $dtId or $metadata.$model: {doc}") from exc


def _relationship(doc: dict[str, Any]) -> TwinRelationship:
    try:
        return TwinRelationship(doc["$dtId"], doc["$relationshipName"], doc["$targetId"])
    except KeyError as exc:
        raise DtdlFormatError(f"relationship without {exc}: {doc}") from exc


def from_ndjson(text: str) -> ImportFile:
    """Parse an import file; sections may be absent but must come in the order Azure expects."""
    sections: dict[str, list[dict[str, Any]]] = {s: [] for s in SECTIONS}
    current: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        doc = json.loads(line)
        if set(doc) == {"Section"}:
            section = doc["Section"]
            if section not in SECTIONS or (current and SECTIONS.index(section) <= SECTIONS.index(current)):
                raise DtdlFormatError(f"line {number}: unexpected section {section!r}")
            current = section
        elif current is None:
            raise DtdlFormatError(f"line {number}: data before the first section marker")
        else:
            sections[current].append(doc)
    header = sections["Header"][0] if sections["Header"] else {}
    graph = TwinGraph([_node(d) for d in sections["Twins"]], [_relationship(d) for d in sections["Relationships"]])
    return ImportFile(header, sections["Models"], graph)
