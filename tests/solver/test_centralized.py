"""The centralized reference: the paper's 5-bus table, infeasibility, duals, screening, shedding."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from data_engineering.solver.cases import load_case
from data_engineering.solver.centralized import solve_extensive
from data_engineering.solver.contingencies import select
from data_engineering.solver.model import build_model
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.solve import solve_lascopf

PAPER_G1 = [140.77, 141.36, 143.13]  # Chakrabarti & Baldick (2020), first three intervals, MW
PAPER_G2 = [24.23, 33.65, 29.87]


@pytest.mark.parametrize("method", ["centralized", "admm"])
def test_paper5_without_contingencies_reproduces_the_paper_table(paper5, method) -> None:  # noqa: ANN001
    result = solve_lascopf(select(paper5, "none")[0], SolveOptions(method=method))
    assert result.ok
    # The paper prints two decimals (truncated or rounded), so agree to a hundredth of a MW.
    np.testing.assert_allclose(result.dispatch_mw[:3, 0], PAPER_G1, atol=0.011)
    np.testing.assert_allclose(result.dispatch_mw[:3, 1], PAPER_G2, atol=0.011)
    assert result.max_violation_pu < 1e-6


@pytest.mark.parametrize("method", ["centralized", "admm"])
def test_paper5_with_all_seven_contingencies_is_infeasible_and_names_the_two_outages(paper5, method) -> None:  # noqa: ANN001
    result = solve_lascopf(paper5, SolveOptions(method=method))
    assert result.status == "infeasible"
    assert result.infeasible_contingencies == ["outage 1-2", "outage 1-3"]
    assert "outage 1-2, outage 1-3" in result.message
    assert result.dispatch_mw is None  # no half-answer presented as a dispatch


def test_paper5_with_the_other_five_contingencies_solves(paper5_secure) -> None:  # noqa: ANN001
    result = solve_lascopf(paper5_secure, SolveOptions(method="centralized"))
    assert result.ok and result.max_violation_pu < 1e-6
    assert result.binding_contingencies == ["outage 3-4"]
    unsecured = solve_lascopf(select(paper5_secure, "none")[0], SolveOptions(method="centralized"))
    assert result.objective > unsecured.objective  # security costs something here


def test_lmps_are_the_marginal_cost_of_load(paper5_secure) -> None:  # noqa: ANN001
    """Finite differences of the optimal objective against the duals-derived LMPs, bus by bus."""
    base = solve_extensive(build_model(paper5_secure, SolveOptions()))
    eps = 1e-3
    for t in (0, 2):
        for n in range(1, 5):
            load = paper5_secure.load_mw.copy()
            load[t, n] += eps
            bumped = solve_extensive(build_model(paper5_secure.with_loads(load), SolveOptions()))
            assert (bumped.objective - base.objective) / eps == pytest.approx(base.lmp[t, n], abs=0.05)


def test_kkt_unconstrained_generators_run_at_their_bus_lmp(paper5_secure) -> None:  # noqa: ANN001
    """Dual feasibility: a generator strictly inside its limits and ramps has marginal cost = LMP."""
    case = paper5_secure
    model = build_model(case, SolveOptions())
    sol = solve_extensive(model)
    g = case.generators
    previous = np.vstack([g.p0_mw, sol.x[:-1]])
    interior = 0
    for t in range(case.intervals):
        for k in range(g.n):
            p, step = sol.x[t, k], sol.x[t, k] - previous[t, k]
            ramp_free = -g.ramp_down_mw[k] + 1e-6 < step < g.ramp_up_mw[k] - 1e-6
            next_free = t == case.intervals - 1 or abs(sol.x[t + 1, k] - p) < g.ramp_up_mw[k] - 1e-6
            if g.pmin_mw[k] + 1e-6 < p < g.pmax_mw[k] - 1e-6 and ramp_free and next_free:
                interior += 1
                assert 2 * g.c2[k] * p + g.c1[k] == pytest.approx(sol.lmp[t, g.bus[k]], abs=1e-4)
    assert interior >= 5
    # The LMP-weighted load minus generation revenue equals the congestion rent: Σ LMP·(d − inj) ≥ 0.
    injection = model.injection(sol.x)
    assert (-(sol.lmp * injection).sum()) >= -1e-6


@pytest.mark.parametrize("name,emergency", [("paper5", 1.0), ("pglib_opf_case14_ieee", 1.5),
                                            ("pglib_opf_case30_ieee", 1.2)])
def test_screening_reaches_the_full_extensive_form_optimum(name, emergency) -> None:  # noqa: ANN001
    case = load_case(name, 3).with_emergency_factor(emergency)
    case = select(case, "2-3,2-4,2-5,3-4,4-5" if name == "paper5" else "all")[0]
    model = build_model(case, SolveOptions())
    screened = solve_extensive(model)
    full = solve_extensive(model, screening=False)
    assert screened.status == full.status == "optimal"
    assert screened.objective == pytest.approx(full.objective, rel=1e-7)
    np.testing.assert_allclose(screened.lmp, full.lmp, atol=1e-4)
    assert screened.flow_rows < full.flow_rows / 5  # the point of screening


def test_infeasible_input_gets_a_clear_status_and_shedding_resolves_it(paper5_secure) -> None:  # noqa: ANN001
    overloaded = paper5_secure.with_loads(paper5_secure.load_mw * 3)  # 495 MW against 472 MW of capacity
    for method in ("centralized", "admm"):
        result = solve_lascopf(overloaded, SolveOptions(method=method))
        assert result.status == "infeasible", method
        assert "infeasible without contingencies" in result.message
    shed = solve_lascopf(select(overloaded, "none")[0], SolveOptions(load_shedding=True, voll_per_mwh=1000.0))
    assert shed.ok
    total_shed = shed.shed_mw.sum(axis=1)
    assert (total_shed > 0).all()
    np.testing.assert_allclose(shed.dispatch_mw.sum(axis=1) + total_shed, overloaded.load_mw.sum(axis=1), atol=1e-6)
    interior = (shed.shed_mw > 1e-3) & (shed.shed_mw < overloaded.load_mw - 1e-3)
    assert interior.any()
    np.testing.assert_allclose(shed.lmp[interior], 1000.0, rtol=1e-6)  # a partly shed bus prices at VOLL


@pytest.mark.parametrize("method", ["centralized", "admm"])
def test_contingencies_infeasible_only_together_are_reported_as_such(method) -> None:  # noqa: ANN001
    case = select(load_case("case39", 3), "all")[0]
    result = solve_lascopf(case, SolveOptions(method=method))
    assert result.status == "infeasible"
    assert result.infeasible_contingencies == []
    assert "infeasible in combination" in result.message


def test_a_row_cap_per_round_reaches_the_same_optimum() -> None:
    """One limit per interval and round (the most violated) against all of them: the same optimum and
    prices from a fraction of the rows (the most violated limit relieves the others)."""
    case = select(load_case("pglib_opf_case30_ieee", 3).with_emergency_factor(1.2), "all")[0]
    model = build_model(case, SolveOptions())
    capped = solve_extensive(model, max_rows=1, max_rounds=500)
    free = solve_extensive(model)
    assert capped.status == free.status == "optimal"
    assert capped.objective == pytest.approx(free.objective, rel=1e-7)
    np.testing.assert_allclose(capped.lmp, free.lmp, atol=1e-4)
    assert capped.rounds >= free.rounds and capped.flow_rows < free.flow_rows / 3


def test_an_interval_that_cannot_be_secured_is_named_with_its_outages(paper5_secure) -> None:  # noqa: ANN001
    """Interval 3 at 1.6× its load (ramps wide enough to reach it): enough capacity, but no dispatch
    survives any of the five outages there; the diagnosis names the interval (from the intervals
    alone) and the outages (each alone within it). At 2× no dispatch exists there at all."""
    g = paper5_secure.generators
    fast = replace(paper5_secure, generators=replace(g, ramp_up_mw=g.ramp_up_mw * 100,
                                                     ramp_down_mw=g.ramp_down_mw * 100))
    load = fast.load_mw.copy()
    load[2] *= 1.6
    result = solve_lascopf(fast.with_loads(load), SolveOptions())
    assert result.status == "infeasible"
    assert "interval 3 of 5 cannot be secured on its own" in result.message
    assert result.infeasible_contingencies == [c.label for c in fast.contingencies]
    load[2] *= 1.25
    result = solve_lascopf(fast.with_loads(load), SolveOptions())
    assert result.status == "infeasible"
    assert "infeasible without contingencies in interval 3 of 5 on its own" in result.message
