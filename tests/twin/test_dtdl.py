"""The exported interfaces and graph obey the DTDL v3 rules the validator encodes, the import file
has the Azure Digital Twins import-job shape, and every broken input is caught."""

import copy
import json
from dataclasses import replace

import pytest

from data_engineering.contracts.twin import TwinGraph, TwinNode, TwinRelationship
from data_engineering.twin import ontology as o
from data_engineering.twin.dtdl import CONTEXT, DtdlFormatError, from_ndjson, to_ndjson
from data_engineering.twin.files import IMPORT_FILE, MODELS_DIR, export_twin, load_twin
from data_engineering.twin.validate import DTMI, DtdlValidationError, dtdl_errors


def test_the_export_is_valid_dtdl_v3(models, twin):
    assert dtdl_errors(models, twin) == []
    assert {m["@context"] for m in models} == {CONTEXT}
    kinds = {c["@type"] for m in models for c in m["contents"]}
    assert kinds == {"Property", "Relationship", "Telemetry"}
    assert next(m for m in models if m["@id"] == o.SUBSTATION)["extends"] == [o.EQUIPMENT_CONTAINER]


def test_the_import_file_has_the_azure_sections_in_order(models, twin):
    lines = [json.loads(line) for line in to_ndjson(models, twin).splitlines()]
    markers = [(i, d["Section"]) for i, d in enumerate(lines) if set(d) == {"Section"}]
    assert [s for _, s in markers] == ["Header", "Models", "Twins", "Relationships"]
    assert lines[1]["fileVersion"] == "1.0.0"
    twin_line = lines[markers[2][0] + 1]
    assert set(twin_line) >= {"$dtId", "$metadata"} and "$model" in twin_line["$metadata"]
    rel_line = lines[markers[3][0] + 1]
    assert set(rel_line) == {"$dtId", "$relationshipId", "$targetId", "$relationshipName"}


def test_ndjson_round_trip_keeps_the_graph(models, twin):
    parsed = from_ndjson(to_ndjson(models, twin))
    assert parsed.models == models
    assert parsed.graph.canonical() == twin.canonical()


def test_export_directory_round_trips_and_refuses_an_invalid_graph(twin, tmp_path):
    path = export_twin(twin, tmp_path)
    assert path == tmp_path / IMPORT_FILE
    assert {p.stem for p in (tmp_path / MODELS_DIR).glob("*.json")} == {i.name for i in o.INTERFACES}
    assert load_twin(tmp_path).graph.canonical() == twin.canonical()
    broken = TwinGraph(twin.nodes, [*twin.relationships, TwinRelationship("m-000000", "feedsTo", "f-000")])
    with pytest.raises(DtdlValidationError, match="not declared"):
        export_twin(broken, tmp_path / "broken")


def _model(models, dtmi):
    return next(m for m in models if m["@id"] == dtmi)


def _break_model(change):
    def apply(models, twin):
        change(models)
        return models, twin
    return apply


def _break_graph(change):
    def apply(models, twin):
        return models, change(twin)
    return apply


def _with_node(twin, node):
    return TwinGraph([*twin.nodes, node], twin.relationships)


def _with_rel(twin, rel):
    return TwinGraph(twin.nodes, [*twin.relationships, rel])


def _meter_props(twin, **props):
    nodes = [replace(n, properties=n.properties | props) if n.dt_id == "up-m-000000" else n for n in twin.nodes]
    return TwinGraph(nodes, twin.relationships)


BROKEN = {
    "context v2": (_break_model(lambda ms: ms[0].update({"@context": "dtmi:dtdl:context;2"})), "@context must be"),
    "bad DTMI": (_break_model(lambda ms: ms[0].update({"@id": "dtmi:bad-id;1"})), "not a valid DTMI"),
    "DTMI without version": (_break_model(lambda ms: ms[0].update({"@id": "dtmi:a:b"})), "not a valid DTMI"),
    "unknown content type": (_break_model(lambda ms: _model(ms, o.METER)["contents"][0].update({"@type": "Field"})),
                             "has @type"),
    "bad content name": (_break_model(lambda ms: _model(ms, o.POLE)["contents"][0].update({"name": "1st"})),
                         "not a valid content name"),
    "name over 512": (_break_model(lambda ms: _model(ms, o.POLE)["contents"][0].update({"name": "a" * 513})),
                      "not a valid content name"),
    "duplicate name": (_break_model(lambda ms: _model(ms, o.POLE)["contents"].append(
        {"@type": "Property", "name": "latitude", "schema": "double"})), "declared more than once"),
    "inherited name redeclared": (_break_model(lambda ms: _model(ms, o.METER)["contents"].append(
        {"@type": "Property", "name": "name", "schema": "string"})), "declared more than once"),
    "dangling target": (_break_model(lambda ms: _model(ms, o.METER)["contents"][0].update(
        {"target": "dtmi:digitaltwins:ngsi_ld:cim:energy:MeterReading;1"})), "not an exported interface"),
    "dangling extends": (_break_model(lambda ms: _model(ms, o.METER).update({"extends": ["dtmi:x:Asset;1"]})),
                         "which is not exported"),
    "extends itself": (_break_model(lambda ms: _model(ms, o.METER).update({"extends": [o.METER]})), "extends itself"),
    "extends cycle": (_break_model(lambda ms: _model(ms, o.IDENTIFIED_OBJECT).update({"extends": [o.POLE]})),
                      "extends itself"),
    "non-primitive schema": (_break_model(lambda ms: _model(ms, o.POLE)["contents"][0].update({"schema": "str"})),
                             "not a DTDL primitive"),
    "interface twice": (_break_model(lambda ms: ms.append(copy.deepcopy(ms[0]))), "exported more than once"),
    "unknown model": (_break_graph(lambda t: _with_node(t, TwinNode("x", "dtmi:x:Y;1"))), "is not exported"),
    "undeclared property": (_break_graph(lambda t: _meter_props(t, colour="red")), "'colour' is not declared"),
    "telemetry as property": (_break_graph(lambda t: _with_node(t, TwinNode("m-x", o.METER, {"voltage": 1.0}))),
                              "'voltage' is not declared"),
    "wrong value type": (_break_graph(lambda t: _meter_props(t, phaseCount="one")), "does not fit"),
    "bool as integer": (_break_graph(lambda t: _meter_props(t, phaseCount=True)), "does not fit"),
    "duplicate twin": (_break_graph(lambda t: _with_node(t, t.nodes[0])), "appears more than once"),
    "undeclared relationship": (_break_graph(lambda t: _with_rel(t, TwinRelationship("f-000", "owns", "p-00000"))),
                                "is not declared by"),
    "missing target twin": (_break_graph(lambda t: _with_rel(t, TwinRelationship("f-000", "feedsTo", "xf-nope"))),
                            "target twin does not exist"),
    "missing source twin": (_break_graph(lambda t: _with_rel(t, TwinRelationship("nope", "feedsTo", "f-000"))),
                            "source twin does not exist"),
    "target of the wrong class": (_break_graph(lambda t: _with_rel(t, TwinRelationship("f-000", "feedsTo",
                                                                                       "p-00000"))), "target's model"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_the_validator_catches_broken_inputs(case, models, twin):
    breaker, message = BROKEN[case]
    broken_models, broken_twin = breaker(copy.deepcopy(models), twin)
    errors = dtdl_errors(broken_models, broken_twin)
    assert any(message in e for e in errors), errors


def test_the_dtmi_pattern_is_dtdl_v3s():
    assert all(DTMI.match(i.dtmi) for i in o.INTERFACES)
    assert not DTMI.match("dtmi:a_:b;1") and not DTMI.match("dtmi:a:b;0") and not DTMI.match("dtmi:a:b;1234567890")


@pytest.mark.parametrize("text, message", [
    ('{"$dtId": "a"}\n', "before the first section"),
    ('{"Section": "Twins"}\n{"Section": "Models"}\n', "unexpected section"),
    ('{"Section": "Footer"}\n', "unexpected section"),
    ('{"Section": "Twins"}\n{"$dtId": "a"}\n', "twin without"),
    ('{"Section": "Relationships"}\n{"$dtId": "a", "$targetId": "b"}\n', "relationship without"),
])
def test_malformed_import_files_are_refused(text, message):
    with pytest.raises(DtdlFormatError, match=message):
        from_ndjson(text)
