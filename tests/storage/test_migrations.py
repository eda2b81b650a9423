from datetime import UTC, datetime

import pytest

from data_engineering.contracts.spec import stored_columns
from data_engineering.contracts.telemetry import telemetry_sources
from data_engineering.storage import migrations
from data_engineering.storage.migrations import MigrationError, applied_versions, discover, migrate


def test_migrations_are_recorded_and_idempotent(database):
    assert applied_versions(database) == [m.version for m in discover()]
    assert migrate(database) == []


def test_an_edited_migration_is_refused(database, tmp_path):
    for m in discover():
        (tmp_path / f"{m.version:03d}_{m.name}.sql").write_text(m.sql)
    first = sorted(tmp_path.glob("001_*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        migrate(database, tmp_path)


def test_badly_named_migration_is_refused(tmp_path):
    (tmp_path / "1_init.sql").write_text("SELECT 1")
    with pytest.raises(MigrationError, match="NNN_description"):
        migrations.discover(tmp_path)


@pytest.mark.parametrize("source", sorted(telemetry_sources()))
def test_table_columns_match_the_contract(database, source):
    spec = telemetry_sources()[source]
    with database.connect() as conn:
        rows = conn.execute("SELECT column_name, data_type FROM information_schema.columns"
                            " WHERE table_name = %s ORDER BY ordinal_position", (spec.table,)).fetchall()
        pk = conn.execute("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                          " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
                          (spec.table,)).fetchall()
        nullable = dict(conn.execute("SELECT column_name, is_nullable = 'YES' FROM information_schema.columns"
                                     " WHERE table_name = %s", (spec.table,)).fetchall())
        key_table = set() if spec.key_table is None else {r[0] for r in conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
            " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
            (spec.key_table,)).fetchall()}
    assert rows == [(f.name, f.sql_type) for f in stored_columns(spec)]
    assert {r[0] for r in pk} == set(spec.stored_key)
    fields = spec.record.fields
    assert {f.name: nullable[f.name] for f in fields} == {f.name: not f.required for f in fields}
    assert spec.key_table is None or key_table == set(spec.key)  # a key without the time column is kept beside


def test_partitions_are_created_only_for_the_chunks_that_receive_rows(database):
    far = [datetime(2026, 1, 5, 3, tzinfo=UTC), datetime(2026, 11, 21, 23, tzinfo=UTC),
           datetime(2026, 11, 21, 12, tzinfo=UTC)]
    with database.connect() as conn:
        before = conn.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'ami_readings'::regclass").fetchone()
        created = conn.execute("SELECT lascopf_ensure_partitions_at('ami_readings', %s)", (far,)).fetchone()[0]
        names = {r[0] for r in conn.execute("SELECT inhrelid::regclass::text FROM pg_inherits"
                                            " WHERE inhparent = 'ami_readings'::regclass").fetchall()}
    assert before[0] == 0 and created == 2
    assert names == {"ami_readings_p20260105t0000", "ami_readings_p20261121t0000"}


def test_time_bucket_behaves_like_timescaledb(database):
    with database.connect() as conn:
        got = conn.execute(
            "SELECT time_bucket('5 minutes', %s::timestamptz), time_bucket('7 days', %s::timestamptz)",
            (datetime(2026, 11, 21, 10, 7, 30, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC))).fetchone()
    assert got[0] == datetime(2026, 11, 21, 10, 5, tzinfo=UTC)
    assert got[1] == datetime(2026, 11, 16, tzinfo=UTC)  # weeks start on Monday, as TimescaleDB's origin


def test_partitions_are_created_on_demand_and_rows_routed(database):
    span = (datetime(2026, 11, 21, 23, tzinfo=UTC), datetime(2026, 11, 22, 1, tzinfo=UTC))
    with database.connect() as conn:
        created = conn.execute("SELECT lascopf_ensure_partitions('ami_readings', %s, %s)", span).fetchone()[0]
        again = conn.execute("SELECT lascopf_ensure_partitions('ami_readings', %s, %s)", span).fetchone()[0]
        conn.execute("INSERT INTO ami_readings (event_ts, meter_id, pole_id, seq, voltage_v, current_a, power_kw,"
                     " network_profile, received_ts, ingest_batch)"
                     " VALUES (%s, 'm', 'p', 0, 240, 1, 0.2, 'wired', now(), 1)",
                     (datetime(2026, 11, 22, 0, 30, tzinfo=UTC),))
        where = conn.execute("SELECT tableoid::regclass::text FROM ami_readings").fetchone()[0]
    assert (created, again) == (2, 0)
    assert where == "ami_readings_p20261122t0000"
