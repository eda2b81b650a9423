"""The versioned network model: registration is content-addressed, and the model in force at a
time has the topology events up to then applied."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from data_engineering.solver.cases import load_case
from data_engineering.storage.network import network_at, register_network

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _seed_buses(conn, case) -> None:  # noqa: ANN001
    conn.cursor().executemany("INSERT INTO network_buses (bus_id, name, base_kv) VALUES (%s, %s, 138)",
                              [(int(b), f"Bus {b}") for b in case.buses.ids])


def test_registration_is_idempotent_and_round_trips(database) -> None:  # noqa: ANN001
    case = load_case("pglib_opf_case14_ieee", interval_minutes=60.0)
    with database.transaction() as conn:
        _seed_buses(conn, case)
        first = register_network(conn, case, T0, "test")
        assert register_network(conn, case, T0, "test") == first
    with database.connect(autocommit=True) as conn:
        model = network_at(conn, T0 + timedelta(days=1), interval_minutes=5.0)
    got = model.case
    assert model.version_id == first and model.out_of_service == ()
    order = [case.branches.names.index(n) for n in got.branches.names]
    np.testing.assert_allclose(got.branches.x_pu, case.branches.x_pu[order])
    np.testing.assert_allclose(got.branches.rate_mw, case.branches.rate_mw[order])
    gens = [case.generators.names.index(n) for n in got.generators.names]
    np.testing.assert_allclose(got.generators.c1, case.generators.c1[gens])
    np.testing.assert_allclose(got.generators.ramp_up_mw, case.generators.ramp_up_mw[gens] * 5 / 60)
    assert got.buses.ids[got.buses.ref] == case.buses.ids[case.buses.ref]


def test_the_same_network_registered_earlier_is_valid_from_then_unless_another_starts_between(
        database) -> None:  # noqa: ANN001
    """A replayed earlier window (a demo moved a week back) registers the grid it already stored: the
    version is in force from the earlier time too, where before a lookup there found no version at all.
    It never reaches back over another version's own time."""
    case = load_case("pglib_opf_case14_ieee", interval_minutes=60.0)
    other = case.with_emergency_factor(1.2)  # another network: its own content, its own version
    with database.transaction() as conn:
        _seed_buses(conn, case)
        first = register_network(conn, case, T0, "test")
        assert register_network(conn, case, T0 - timedelta(days=7), "test") == first
        second = register_network(conn, other, T0 + timedelta(days=10), "test")
        assert register_network(conn, other, T0 - timedelta(days=30), "test") == second  # would cover `first`
    with database.connect(autocommit=True) as conn:
        assert network_at(conn, T0 - timedelta(days=6), 5.0).version_id == first
        assert network_at(conn, T0 + timedelta(days=1), 5.0).version_id == first
        assert network_at(conn, T0 + timedelta(days=11), 5.0).version_id == second


def test_topology_events_switch_elements_until_switched_back(database) -> None:  # noqa: ANN001
    case = load_case("pglib_opf_case14_ieee", interval_minutes=60.0)
    with database.transaction() as conn:
        _seed_buses(conn, case)
        register_network(conn, case, T0, "test")
        conn.execute("SELECT lascopf_ensure_partitions('topology_events', %s, %s)", (T0, T0 + timedelta(days=3)))
        conn.cursor().executemany(
            "INSERT INTO topology_events (ts, element_type, element_id, in_service, received_ts, ingest_batch)"
            " VALUES (%s, %s, %s, %s, now(), 0)",
            [(T0 + timedelta(hours=1), "branch", "2-4", False), (T0 + timedelta(hours=2), "generator", "G2", False),
             (T0 + timedelta(hours=3), "branch", "2-4", True)])
    with database.connect(autocommit=True) as conn:
        before = network_at(conn, T0 + timedelta(minutes=30), 5.0)
        during = network_at(conn, T0 + timedelta(hours=2, minutes=30), 5.0)
        after = network_at(conn, T0 + timedelta(hours=4), 5.0)
    assert before.out_of_service == ()
    assert during.out_of_service == ("branch 2-4", "generator G2")
    assert not during.case.branches.in_service[during.case.branches.names.index("2-4")]
    assert "G2" not in during.case.generators.names
    assert after.out_of_service == ("generator G2",)
