"""PowerLASCOPF.jl, checked without Julia: every source parses (tree-sitter's Julia grammar), every
file is included, and what the sources load is what Project.toml declares."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "PowerLASCOPF.jl"
SOURCES = sorted(PACKAGE.rglob("*.jl"))


def _errors(node, out: list) -> list:  # noqa: ANN001
    if node.type == "ERROR" or node.is_missing:
        out.append(f"line {node.start_point[0] + 1}: {node.text[:60]!r}")
    for child in node.children:
        _errors(child, out)
    return out


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_julia_source_parses(path):
    tree_sitter = pytest.importorskip("tree_sitter")
    julia = pytest.importorskip("tree_sitter_julia")
    parser = tree_sitter.Parser(tree_sitter.Language(julia.language()))
    assert _errors(parser.parse(path.read_bytes()).root_node, []) == []


def test_the_module_includes_every_source_file():
    module = (PACKAGE / "src" / "PowerLASCOPF.jl").read_text()
    included = set(re.findall(r'^include\("([^"]+)"\)', module, re.M))
    on_disk = {p.name for p in (PACKAGE / "src").glob("*.jl")} - {"PowerLASCOPF.jl"}
    assert included == on_disk


def test_what_the_sources_load_is_declared():
    project = tomllib.loads((PACKAGE / "Project.toml").read_text())
    loaded = set()
    for path in (PACKAGE / "src").glob("*.jl"):
        for names in re.findall(r"^(?:using|import)\s+([\w, ]+)$", path.read_text(), re.M):
            loaded |= {n.strip() for n in names.split(",")}
    assert loaded == set(project["deps"])
    assert set(project["compat"]) == set(project["deps"]) | {"julia"}
    tests = re.findall(r"^using\s+(\w+)", (PACKAGE / "test" / "runtests.jl").read_text(), re.M)
    assert set(tests) <= set(project["deps"]) | set(project["extras"]) | {project["name"]}
