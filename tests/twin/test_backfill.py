"""Migration 015 on a database that already holds an asset model: the twin it backfills has the
simulator twin's nodes and relationships, with only what the old tables lack left unset."""

import shutil

from data_engineering.simulation.assets import asset_model
from data_engineering.storage.assets import upsert_asset_model
from data_engineering.storage.migrations import SQL_DIR, migrate
from data_engineering.storage.twin import read_twin
from data_engineering.twin.validate import dtdl_errors

TWIN_MIGRATION = 15


def test_the_migration_backfills_the_twin_from_existing_assets(empty_database, sim, twin, models, tmp_path):
    for path in SQL_DIR.glob("*.sql"):
        if int(path.name[:3]) < TWIN_MIGRATION:
            shutil.copy(path, tmp_path)
    migrate(empty_database, tmp_path)
    with empty_database.transaction() as conn:
        upsert_asset_model(conn, asset_model(sim.fleet, sim.grid, sim.config.nominal_voltage_v))
    migrate(empty_database)
    with empty_database.connect(autocommit=True) as conn:
        backfilled = read_twin(conn)

    expected = twin.canonical()
    assert backfilled.relationships == expected.relationships
    assert [(n.dt_id, n.model) for n in backfilled.nodes] == [(n.dt_id, n.model) for n in expected.nodes]
    for got, want in zip(backfilled.nodes, expected.nodes, strict=True):
        assert got.properties.items() <= want.properties.items(), got.dt_id
    unset = {k for got, want in zip(backfilled.nodes, expected.nodes, strict=True)
             for k in want.properties.keys() - got.properties.keys()}
    assert unset == {"ratedKva", "phases", "phaseCode", "phaseCount"}
    assert dtdl_errors(models, backfilled) == []
