"""LMP = energy + congestion (lossless DC): the parts add up, congestion vanishes without binding
limits and is made of the binding limits' shadow prices, and the LMPs are marginal costs (finite
differences) in corrective mode and with unit outages too."""

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

PRICED = [("paper5", "2-3,2-4,2-5,3-4,4-5", 1.0, "preventive"),
          ("pglib_opf_case14_ieee", "all", 1.5, "corrective"),
          ("pglib_opf_case57_ieee", "all,G:G1", 1.3, "preventive")]


@pytest.mark.parametrize("method", ["centralized", "admm"])
@pytest.mark.parametrize("name, spec, emergency, mode", PRICED)
def test_energy_and_congestion_add_up_to_the_lmp(name, spec, emergency, mode, method) -> None:  # noqa: ANN001
    case = select(load_case(name, 2).with_emergency_factor(emergency), spec)[0]
    result = solve_lascopf(case, SolveOptions(method=method, mode=mode))
    assert result.ok
    np.testing.assert_allclose(result.lmp_energy[:, None] + result.lmp_congestion, result.lmp, atol=1e-9)
    assert np.allclose(result.lmp_congestion[:, case.buses.ref], 0.0)
    assert np.abs(result.lmp_congestion).max() > 0.1  # these instances are congested


def test_without_a_binding_limit_congestion_is_zero_everywhere(paper5) -> None:  # noqa: ANN001
    roomy = replace(paper5, branches=replace(paper5.branches, rate_mw=paper5.branches.rate_mw * 3,
                                             emergency_mw=paper5.branches.emergency_mw * 3))
    for method in ("centralized", "admm"):
        result = solve_lascopf(roomy, SolveOptions(method=method))
        assert result.ok and result.binding == []
        assert np.abs(result.lmp_congestion).max() < 1e-6
        np.testing.assert_allclose(result.lmp, np.repeat(result.lmp_energy[:, None], 5, axis=1), atol=1e-6)


def test_congestion_is_the_binding_limits_shadow_prices_times_their_shift_factors(paper5_secure) -> None:  # noqa: ANN001
    case = paper5_secure
    result = solve_lascopf(case)
    model = build_model(case, SolveOptions())
    labels = [None, *(c.label for c in case.contingencies)]
    rebuilt = np.zeros_like(result.lmp)
    assert result.binding
    for b in result.binding:
        s, line = labels.index(b.contingency), case.branches.names.index(b.branch)
        # relieving a limit lowers cost: a shadow price acts against the direction of the flow
        rebuilt[b.interval - 1] -= b.shadow_price * np.sign(b.flow_mw) * model.scenario_ptdf(s)[line]
    np.testing.assert_allclose(result.lmp_congestion, rebuilt, atol=1e-6)


@pytest.mark.parametrize("name, spec, emergency, mode", PRICED[1:])
def test_lmps_are_marginal_costs_in_corrective_mode_and_with_unit_outages(name, spec, emergency, mode) -> None:  # noqa: ANN001
    case = select(load_case(name, 2).with_emergency_factor(emergency), spec)[0]
    options = SolveOptions(mode=mode)
    base = solve_extensive(build_model(case, options))
    eps = 1e-3
    rng = np.random.default_rng(1)
    for n in rng.choice(np.flatnonzero(case.load_mw[1] > 0), 4, replace=False):
        load = case.load_mw.copy()
        load[1, n] += eps
        bumped = solve_extensive(build_model(case.with_loads(load), options))
        assert (bumped.objective - base.objective) / eps == pytest.approx(base.lmp[1, n], abs=0.05)
