"""Simulator twin → PostgreSQL → `lascopf twin export` → `lascopf twin import` into an empty
migrated database → the same graph; the asset tables and meter_topology work as before."""

from typer.testing import CliRunner

from data_engineering.cli import app
from data_engineering.contracts.twin import TwinGraph, TwinRelationship
from data_engineering.pipelines.grid_setup import register_simulated_grid
from data_engineering.storage.database import Database
from data_engineering.storage.migrations import migrate
from data_engineering.storage.twin import read_twin, write_twin
from tests.helpers import stored
from tests.twin.conftest import simulated_twin

runner = CliRunner()


def _twin(db: Database) -> TwinGraph:
    with db.connect(autocommit=True) as conn:
        return read_twin(conn)


def _cli(monkeypatch, db: Database, *args: str):
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("ENVIRONMENT", "test")
    return runner.invoke(app, ["twin", *args])


def test_export_then_import_into_an_empty_database_gives_the_same_graph(
        database, empty_database, sim, tmp_path, monkeypatch):
    migrate(empty_database)
    register_simulated_grid(database, sim)
    expected = simulated_twin(sim).canonical()
    assert _twin(database) == expected

    exported = _cli(monkeypatch, database, "export", "--out", str(tmp_path))
    assert exported.exit_code == 0, exported.output
    imported = _cli(monkeypatch, empty_database, "import", str(tmp_path))
    assert imported.exit_code == 0, imported.output
    assert _twin(empty_database) == expected

    topology = stored(database, "SELECT meter_id, feeder_id FROM meter_topology ORDER BY meter_id")
    assert topology.meter_id.tolist() == sim.fleet.meter_ids
    phases = stored(database, "SELECT meter_id, phase_code, transformer_id FROM meter_phases ORDER BY meter_id")
    assert phases.meter_id.tolist() == sim.fleet.meter_ids
    assert set(phases.phase_code) <= {"A", "B", "C", "ABC"}


def test_rewriting_a_node_replaces_its_outgoing_relationships(database, twin):
    with database.transaction() as conn:
        write_twin(conn, twin)
    moved = [TwinRelationship("up-m-000000", "fedBy", "xf-p-00001")
             if (r.source, r.name) == ("up-m-000000", "fedBy") else r for r in twin.relationships]
    with database.transaction() as conn:
        write_twin(conn, TwinGraph(twin.nodes, moved))
    assert _twin(database) == TwinGraph(twin.nodes, moved).canonical()


def test_an_invalid_import_file_is_refused_and_nothing_is_written(empty_database, tmp_path, monkeypatch):
    migrate(empty_database)
    (tmp_path / "twin.ndjson").write_text(
        '{"Section": "Twins"}\n{"$dtId": "a", "$metadata": {"$model": "dtmi:x:Y;1"}}\n')
    result = _cli(monkeypatch, empty_database, "import", str(tmp_path / "twin.ndjson"))
    assert result.exit_code == 1
    assert "is not exported" in result.output
    assert _twin(empty_database) == TwinGraph([], [])
