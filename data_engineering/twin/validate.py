"""The DTDL v3 rules we can check without Microsoft's parser, applied to exported interfaces and
the twin graph, so a file that Azure Digital Twins would reject is caught before it leaves (or
enters) the platform."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from data_engineering.contracts.twin import TwinGraph
from data_engineering.twin.dtdl import CONTEXT

SEGMENT = r"[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?"
DTMI = re.compile(rf"^dtmi:{SEGMENT}(?::{SEGMENT})*;[1-9][0-9]{{0,8}}$")
NAME = re.compile(rf"^{SEGMENT}$")
MAX_NAME = 512
CONTENT_TYPES = frozenset({"Property", "Relationship", "Telemetry", "Command", "Component"})
PRIMITIVES: dict[str, tuple[type, ...]] = {
    "boolean": (bool,), "double": (int, float), "float": (int, float), "integer": (int,), "long": (int,),
    "string": (str,), "date": (str,), "dateTime": (str,), "duration": (str,), "time": (str,),
}


def _repeated(items: Iterable[Any]) -> list[Any]:
    return sorted((item for item, n in Counter(items).items() if n > 1), key=str)


class DtdlValidationError(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} DTDL error(s): " + "; ".join(errors[:10]))
        self.errors = errors


def _kind(content: dict[str, Any]) -> str:
    kinds = content.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return next((k for k in kinds if k in CONTENT_TYPES), "")


class _Models:
    """Interfaces by DTMI with their inherited contents resolved."""

    def __init__(self, models: list[dict[str, Any]]) -> None:
        self.by_id = {m.get("@id"): m for m in models}
        self._contents: dict[str, dict[str, dict[str, Any]]] = {}

    def chain(self, dtmi: str) -> Iterator[dict[str, Any]]:
        """The interface and its ancestors, each once (a cycle ends the walk)."""
        seen: set[str] = set()
        pending = [dtmi]
        while pending:
            current = pending.pop()
            if current in seen or current not in self.by_id:
                continue
            seen.add(current)
            yield self.by_id[current]
            pending.extend(self.by_id[current].get("extends", []))

    def contents(self, dtmi: str) -> dict[str, dict[str, Any]]:
        if dtmi not in self._contents:
            self._contents[dtmi] = {c.get("name"): c for m in self.chain(dtmi) for c in m.get("contents", [])}
        return self._contents[dtmi]

    def is_a(self, dtmi: str, ancestor: str) -> bool:
        return any(m.get("@id") == ancestor for m in self.chain(dtmi))


def _interface_errors(model: dict[str, Any], models: _Models) -> Iterator[str]:
    dtmi = model.get("@id", "")
    if model.get("@context") != CONTEXT:
        yield f"{dtmi}: @context must be {CONTEXT!r}"
    if model.get("@type") != "Interface":
        yield f"{dtmi}: @type must be 'Interface'"
    if not isinstance(dtmi, str) or not DTMI.match(dtmi):
        yield f"{dtmi!r}: not a valid DTMI"
    for parent in model.get("extends", []):
        if parent not in models.by_id:
            yield f"{dtmi}: extends {parent!r}, which is not exported"
    if dtmi in {p for m in models.chain(dtmi) for p in m.get("extends", [])}:
        yield f"{dtmi}: extends itself"
    for name in _repeated(c.get("name") for m in models.chain(dtmi) for c in m.get("contents", [])):
        yield f"{dtmi}: content name {name!r} is declared more than once (inherited names included)"
    for content in model.get("contents", []):
        yield from _content_errors(dtmi, content, models)


def _content_errors(dtmi: str, content: dict[str, Any], models: _Models) -> Iterator[str]:
    name, kind = content.get("name"), _kind(content)
    if not kind:
        yield f"{dtmi}: content {name!r} has @type {content.get('@type')!r}, not one of {sorted(CONTENT_TYPES)}"
    if not isinstance(name, str) or len(name) > MAX_NAME or not NAME.match(name):
        yield f"{dtmi}: {name!r} is not a valid content name"
    if kind == "Relationship" and "target" in content and content["target"] not in models.by_id:
        yield f"{dtmi}.{name}: target {content['target']!r} is not an exported interface"
    if kind in ("Property", "Telemetry") and isinstance(content.get("schema"), str) \
            and content["schema"] not in PRIMITIVES:
        yield f"{dtmi}.{name}: schema {content['schema']!r} is not a DTDL primitive"


def _twin_errors(graph: TwinGraph, models: _Models) -> Iterator[str]:
    for dup in _repeated(n.dt_id for n in graph.nodes):
        yield f"twin {dup!r} appears more than once"
    for node in graph.nodes:
        if node.model not in models.by_id:
            yield f"twin {node.dt_id}: model {node.model!r} is not exported"
            continue
        declared = models.contents(node.model)
        for prop, value in node.properties.items():
            content = declared.get(prop)
            if content is None or _kind(content) != "Property":
                yield f"twin {node.dt_id}: property {prop!r} is not declared by {node.model}"
            elif not _fits(value, content.get("schema")):
                yield f"twin {node.dt_id}: {prop}={value!r} does not fit schema {content.get('schema')!r}"


def _fits(value: Any, schema: Any) -> bool:
    types = PRIMITIVES.get(schema) if isinstance(schema, str) else None
    if types is None:
        return True  # complex schemas are beyond this validator
    return isinstance(value, types) and (bool in types or not isinstance(value, bool))


def _relationship_errors(graph: TwinGraph, models: _Models) -> Iterator[str]:
    twins = {n.dt_id: n.model for n in graph.nodes}
    for source, rid in _repeated((r.source, r.relationship_id) for r in graph.relationships):
        yield f"relationship {rid!r} of {source!r} appears more than once"
    for rel in graph.relationships:
        if rel.source not in twins:
            yield f"relationship {rel}: source twin does not exist"
            continue
        if rel.target not in twins:
            yield f"relationship {rel}: target twin does not exist"
        content = models.contents(twins[rel.source]).get(rel.name)
        if content is None or _kind(content) != "Relationship":
            yield f"relationship {rel}: {rel.name!r} is not declared by {twins[rel.source]}"
        elif rel.target in twins and "target" in content and not models.is_a(twins[rel.target], content["target"]):
            yield f"relationship {rel}: target's model is not a {content['target']}"


def dtdl_errors(models: list[dict[str, Any]], graph: TwinGraph) -> list[str]:
    """Every rule broken by the interfaces and the graph that uses them (empty when valid)."""
    index = _Models(models)
    errors = [f"interface {i!r} is exported more than once" for i in _repeated(m.get("@id") for m in models)]
    for model in models:
        errors.extend(_interface_errors(model, index))
    errors.extend(_twin_errors(graph, index))
    errors.extend(_relationship_errors(graph, index))
    return errors


def check(models: list[dict[str, Any]], graph: TwinGraph) -> None:
    errors = dtdl_errors(models, graph)
    if errors:
        raise DtdlValidationError(errors)
