"""The export directory: one DTDL interface file per model under models/ (for tools that upload
models alone) and twin.ndjson, the Azure Digital Twins import-job file with models, twins and
relationships. Both directions validate, so no invalid file is written or loaded."""

from __future__ import annotations

import json
from pathlib import Path

from data_engineering.contracts.twin import TwinGraph
from data_engineering.twin.dtdl import ImportFile, from_ndjson, interface_document, to_ndjson
from data_engineering.twin.ontology import INTERFACES
from data_engineering.twin.validate import check

MODELS_DIR = "models"
IMPORT_FILE = "twin.ndjson"


def export_twin(graph: TwinGraph, out_dir: Path) -> Path:
    """Write the interfaces and the graph under `out_dir`; the path of the import file."""
    models = [interface_document(i) for i in INTERFACES]
    check(models, graph)
    (out_dir / MODELS_DIR).mkdir(parents=True, exist_ok=True)
    for interface, doc in zip(INTERFACES, models, strict=True):
        (out_dir / MODELS_DIR / f"{interface.name}.json").write_text(json.dumps(doc, indent=2) + "\n")
    path = out_dir / IMPORT_FILE
    path.write_text(to_ndjson(models, graph))
    return path


def load_twin(in_dir: Path) -> ImportFile:
    """Read `in_dir`/twin.ndjson (or the file itself) and check it against the models it carries."""
    path = in_dir / IMPORT_FILE if in_dir.is_dir() else in_dir
    parsed = from_ndjson(path.read_text())
    check(parsed.models, parsed.graph)
    return parsed
