"""Corrective mode and unit outages against an independent angle-form extensive form; the paper's
5-bus system in corrective mode; preventive pickup and reserve shortfall."""

from __future__ import annotations

import numpy as np
import pytest

from data_engineering.solver.cases import load_case
from data_engineering.solver.contingencies import select
from data_engineering.solver.model import build_model
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.solve import solve_lascopf
from tests.solver.angle_reference import solve_angle_form
from tests.solver.conftest import SECURABLE_PAPER5

INSTANCES = [("paper5", SECURABLE_PAPER5, 1.0, 5), ("pglib_opf_case14_ieee", "all", 1.5, 3),
             ("pglib_opf_case57_ieee", "all,G:G1,G:G3", 1.3, 2)]


@pytest.mark.parametrize("mode", ["preventive", "corrective"])
@pytest.mark.parametrize("name, spec, emergency, intervals", INSTANCES)
def test_both_methods_reach_the_angle_form_optimum(name, spec, emergency, intervals, mode) -> None:  # noqa: ANN001
    case = select(load_case(name, intervals).with_emergency_factor(emergency), spec)[0]
    status, objective = solve_angle_form(case, mode, corrective_minutes=10.0)
    assert status == "Optimal"
    central = solve_lascopf(case, SolveOptions(mode=mode))
    assert central.ok and central.mode == mode
    assert central.objective == pytest.approx(objective, rel=1e-8)
    admm = solve_lascopf(case, SolveOptions(method="admm", mode=mode))
    assert admm.ok and admm.max_violation_pu < 1e-3
    assert admm.objective == pytest.approx(objective, rel=2e-4)


def test_corrective_dispatch_stays_within_its_ramps_and_the_emergency_ratings() -> None:
    case = select(load_case("pglib_opf_case14_ieee", 3).with_emergency_factor(1.5), "all")[0]
    result = solve_lascopf(case, SolveOptions(mode="corrective", corrective_minutes=10.0))
    assert result.ok and result.scenario_dispatch_mw  # some outages are met by re-dispatch
    g = case.generators
    for label, redispatch in result.scenario_dispatch_mw.items():
        move = redispatch - result.dispatch_mw
        assert (move <= g.ramp_up_mw * 10 / 60 + 1e-6).all() and (move >= -g.ramp_down_mw * 10 / 60 - 1e-6).all()
        np.testing.assert_allclose(redispatch.sum(axis=1), case.load_mw.sum(axis=1), atol=1e-6)
        assert label.startswith("outage ")
    assert result.violation_mw["contingency_flows"] <= 1e-6 and result.violation_mw["corrective_ramps"] <= 1e-6
    preventive = solve_lascopf(case, SolveOptions())
    assert result.objective < preventive.objective  # re-dispatch after the fact is worth something here


def test_paper5_corrective_with_20_15_mw_ramps(paper5) -> None:  # noqa: ANN001
    """With a corrective ramp of one interval (20 / 15 MW), the outages of 1-2 and 1-3 remain
    infeasible: in interval 1 G2 reaches at most 24.23 + 15 + 15 = 54.23 MW after the outage, so G1
    must still send 165 − 54.23 = 110.77 MW over the one line left (100 MW). Preventive mode needs
    125.77 MW of that line (G2 cannot re-dispatch). The five other outages cost nothing in corrective
    mode: re-dispatch relieves 3-4 and 4-5, which preventive mode pays for."""
    corrective = SolveOptions(mode="corrective", corrective_minutes=60.0)
    assert build_model(paper5, corrective).corrective_up.tolist() == [20.0, 15.0]
    for method in ("centralized", "admm"):
        result = solve_lascopf(paper5, SolveOptions(method=method, mode="corrective", corrective_minutes=60.0))
        assert result.status == "infeasible", method
        assert result.infeasible_contingencies == ["outage 1-2", "outage 1-3"]
        assert "no corrective dispatch" in result.message
    five = select(paper5, SECURABLE_PAPER5)[0]
    unsecured = solve_lascopf(select(paper5, "none")[0]).objective
    assert solve_lascopf(five, corrective).objective == pytest.approx(unsecured, rel=1e-9)
    assert solve_lascopf(five).objective > unsecured + 200
    for rating, preventive_ok, corrective_ok in [(110.5, False, False), (111.0, False, True), (126.0, True, True)]:
        case = paper5.with_emergency_factor(rating / 100)
        assert solve_lascopf(case).ok is preventive_ok, rating
        result = solve_lascopf(case, corrective)
        assert result.ok is corrective_ok, rating
        assert (solve_angle_form(case, "corrective", 60.0)[0] == "Optimal") is corrective_ok
        if corrective_ok:
            assert result.objective == pytest.approx(solve_angle_form(case, "corrective", 60.0)[1], rel=1e-8)


def test_a_lost_unit_is_picked_up_in_proportion_to_pmax_and_flows_follow() -> None:
    case = select(load_case("pglib_opf_case57_ieee", 2).with_emergency_factor(1.3), "G:G1")[0]
    result = solve_lascopf(case)
    assert result.ok
    g = case.generators
    lost = result.dispatch_mw[:, 0]
    assert (lost > 1.0).all()
    pickup = result.scenario_dispatch_mw["outage G:G1"]
    others = np.array([1, 2, 3])
    share = g.pmax_mw[others] / g.pmax_mw[others].sum()
    np.testing.assert_allclose(pickup[:, others], result.dispatch_mw[:, others] + np.outer(lost, share), atol=1e-6)
    assert np.allclose(pickup[:, 0], 0.0)
    # post-outage flows by an angle power flow of the post-outage injections (no PTDF)
    model = build_model(case, SolveOptions())
    xs = np.stack([result.dispatch_mw, pickup], axis=1)
    flows = model.scenario_flows(result.dispatch_mw, xs)[:, 1]
    br = case.branches
    b = case.base_mva / br.x_pu
    bbus = np.zeros((case.buses.n, case.buses.n))
    for f, t, bl in zip(br.from_bus, br.to_bus, b, strict=True):
        bbus[np.ix_([f, t], [f, t])] += [[bl, -bl], [-bl, bl]]
    keep = np.arange(case.buses.n) != case.buses.ref
    for t in range(case.intervals):
        injection = -case.load_mw[t].copy()
        np.add.at(injection, g.bus, pickup[t])
        theta = np.zeros(case.buses.n)
        theta[keep] = np.linalg.solve(bbus[np.ix_(keep, keep)], injection[keep])
        np.testing.assert_allclose(flows[t], b * (theta[br.from_bus] - theta[br.to_bus]), atol=1e-6)


def test_a_unit_outage_without_enough_headroom_reports_the_reserve_shortfall() -> None:
    case = select(load_case("pglib_opf_case14_ieee", 3), "G:G1")[0]
    g = case.generators
    for mode in ("preventive", "corrective"):
        result = solve_lascopf(case, SolveOptions(mode=mode))
        assert result.status == "infeasible" and result.infeasible_contingencies == ["outage G:G1"]
        # G2 (59 MW) cannot carry the load that G1 was serving
        assert result.reserve_shortfall_mw["outage G:G1"] >= case.load_mw.max() - g.pmax_mw[1] - 1e-6


def test_all_gen_lists_every_unit_and_named_units_resolve() -> None:
    case = load_case("pglib_opf_case57_ieee", 1)
    chosen = select(case, "all-gen")[0].contingencies
    assert [c.label for c in chosen] == [f"outage G:{n}" for n in case.generators.names]
    assert all(c.is_generator and c.branch == -1 for c in chosen)
    both = select(case, "1-2,G:G3")[0].contingencies
    assert [c.label for c in both] == ["outage 1-2", "outage G:G3"]
    with pytest.raises(ValueError, match="unknown unit"):
        select(case, "G:G99")


def test_screening_in_small_scenario_blocks_gives_the_same_answer(monkeypatch) -> None:  # noqa: ANN001
    """Overloads screened a few scenarios at a time (no interval × outage × branch array for all
    outages), on the sparse path (rows and columns solved on demand), find the same violations and
    the same optimum as one block on the dense path."""
    from data_engineering.solver import model as model_module
    from data_engineering.solver import network as network_module

    base = load_case("pglib_opf_case57_ieee", 2).with_emergency_factor(1.3)
    case = select(base, "all,G:G1,G:G3")[0]
    whole = solve_lascopf(case)
    m = build_model(case, SolveOptions())
    x = solve_lascopf(select(base, "none")[0]).dispatch_mw  # the unsecured optimum breaks some limits
    insecure = m.insecure(x, 1e-3)
    assert insecure.any() and not insecure.all()
    monkeypatch.setattr(model_module, "SCREEN_CELLS", 3 * m.n_elements)
    monkeypatch.setattr(network_module, "DENSE_BUSES", 0)
    m = build_model(case, SolveOptions())
    assert len(m.scenario_chunks(2)) > 10
    np.testing.assert_array_equal(m.insecure(x, 1e-3), insecure)
    blocks = solve_lascopf(case)
    assert whole.ok and blocks.ok
    assert blocks.objective == pytest.approx(whole.objective, rel=1e-9)
