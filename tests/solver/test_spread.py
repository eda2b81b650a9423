"""A dispatch secured for the load forecast's spread (P10 / P90 band, `secure_spread`): the affine
envelope against fixed-dispatch checks of each trajectory and their mixes, infeasible bands, ADMM
against centralized, and the band's way through the lake."""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from data_engineering.solver.case import Case
from data_engineering.solver.cases import load_case
from data_engineering.solver.contingencies import select
from data_engineering.solver.model import build_model
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.result import SolveResult
from data_engineering.solver.solve import solve_case, solve_lascopf
from data_engineering.solver.spread import spread_cost
from data_engineering.solver.verify import verify
from data_engineering.storage.case_store import read_case_objects, write_case_objects
from data_engineering.storage.lake import LocalLake
from data_engineering.transformation.case_build import case_hash
from tests.solver.conftest import SECURABLE_PAPER5
from tests.solver.test_admm import securable

SPREAD = SolveOptions(secure_spread=True)
TOL_MW = 1e-6
PAPER5_HASH = "a5b33dd5981d992725dcd98d4463d57b192197c25595cc0eb55900e38fc5cfe6"  # before the band existed


RAMPING_BAND = [0.05, 0.05, 0.15, 0.15, 0.05]  # a band that widens and narrows: on paper5 the ramps bind


def banded(case: Case, fraction: float | list[float]) -> Case:
    """The case with P10 / P90 trajectories `fraction` (per interval, or all) below and above its load."""
    w = np.broadcast_to(np.asarray(fraction, dtype=float), (case.intervals,))[:, None]
    return replace(case, load_band_mw=np.stack([case.load_mw * (1 - w), case.load_mw * (1 + w)]))


@functools.cache
def secure_case(name: str) -> Case:
    """The paper system with its securable outages; the PGLib 30-bus case with every securable N-1."""
    if name == "paper5":
        return select(load_case("paper5"), SECURABLE_PAPER5)[0]
    return securable(load_case("pglib_opf_case30_ieee", 3).with_emergency_factor(1.2))


CASES = ["paper5", "pglib_opf_case30_ieee"]


def assert_secure_for(case: Case, result: SolveResult, load: np.ndarray) -> None:
    """The secured dispatch, its units following `load` − P50 in their shares, checked as a fixed
    dispatch of the case at `load`: the full check of a plain model, and balance, bounds, ramps and
    base-case flows recomputed here from the network's PTDF."""
    follow = build_model(case, SPREAD).follow[: case.generators.n]
    x = result.dispatch_mw + np.outer((load - case.load_mw).sum(axis=1), follow)
    plain = replace(case, load_mw=load, load_band_mw=None)
    check = verify(build_model(plain, SolveOptions()), x)
    assert check.max_violation_mw <= TOL_MW, check.worst
    g = case.generators
    assert np.abs(x.sum(axis=1) - load.sum(axis=1)).max() <= TOL_MW
    assert (x >= g.pmin_mw - TOL_MW).all() and (x <= g.pmax_mw + TOL_MW).all()
    step = np.diff(np.vstack([g.p0_mw, x]), axis=0)
    assert (step <= g.ramp_up_mw + TOL_MW).all() and (-step <= g.ramp_down_mw + TOL_MW).all()
    injection = -load.copy()
    np.add.at(injection.T, g.bus, x.T)
    network = build_model(plain, SolveOptions()).network
    flows = injection @ network.ptdf_rows(np.arange(case.branches.n)).T
    assert (np.abs(flows) <= case.branches.rate_mw + TOL_MW).all()


@pytest.mark.parametrize("name", CASES)
def test_a_band_at_the_p50_load_costs_nothing(name: str) -> None:
    case = secure_case(name)
    unsecured = solve_lascopf(case)
    secured = solve_lascopf(banded(case, 0.0), SPREAD)
    assert unsecured.ok and secured.ok
    assert secured.objective == pytest.approx(unsecured.objective, rel=1e-9)


@pytest.mark.parametrize("name", CASES)
def test_the_secured_dispatch_holds_for_p10_p90_and_their_mixes(name: str) -> None:
    case = banded(secure_case(name), 0.05)
    cost = spread_cost(case)
    assert cost.p50_status == cost.secured_status == "optimal"
    assert cost.secured_objective >= cost.p50_objective - 1e-6
    assert cost.difference > 0  # the 5 % band binds on both cases
    result = solve_lascopf(case, SPREAD)
    p10, p90 = case.load_band_mw
    for load in (p10, p90, 0.3 * p10 + 0.7 * p90, 0.3 * case.load_mw + 0.7 * p10):
        assert_secure_for(case, result, load)


def test_the_ramps_tighten_for_a_band_that_changes_between_intervals() -> None:
    case = banded(secure_case("paper5"), RAMPING_BAND)
    result = solve_lascopf(case, SPREAD)
    assert result.ok, result.message
    p10, p90 = case.load_band_mw
    for load in (p10, p90, 0.5 * p10 + 0.5 * p90):
        assert_secure_for(case, result, load)
    _, lower, upper = build_model(case, SPREAD).ramp_chain(0)
    _, p50_lower, p50_upper = build_model(case, SolveOptions()).ramp_chain(0)
    assert (lower >= p50_lower).all() and (upper <= p50_upper).all() and (upper < p50_upper).any()


def test_the_p50_only_dispatch_fails_the_band() -> None:
    """The check above has teeth: the unsecured optimum breaks a limit under the P90 load."""
    case = banded(secure_case("paper5"), 0.05)
    result = solve_lascopf(case)
    with pytest.raises(AssertionError):
        assert_secure_for(case, result, case.load_band_mw[1])


def test_security_rows_tighten_over_loads_that_leave_their_matrix_alone() -> None:
    model = build_model(banded(secure_case("paper5"), 0.05), SPREAD)
    elements = np.arange(model.n_elements)
    rows = [plain._security_rows_at(1, 2, elements) for plain, _ in model.trajectories]
    for other in rows[1:]:
        np.testing.assert_array_equal(other.a, rows[0].a)
    enveloped = model.security_rows(1, 2, elements)
    assert (enveloped.lower >= rows[0].lower).all() and (enveloped.upper <= rows[0].upper).all()
    assert model.follow.sum() == pytest.approx(1.0)


def test_a_band_too_wide_to_secure_is_infeasible_not_an_error() -> None:
    case = banded(secure_case("paper5"), 0.5)
    for method in ("centralized", "admm"):
        assert solve_lascopf(case, replace(SPREAD, method=method)).status == "infeasible", method
    cost = spread_cost(case)
    assert (cost.p50_status, cost.secured_status) == ("optimal", "infeasible")
    assert np.isnan(cost.difference)


@pytest.mark.parametrize("fraction", [0.05, RAMPING_BAND])
def test_admm_agrees_with_centralized_under_a_band(fraction: float | list[float]) -> None:
    case = banded(secure_case("paper5"), fraction)
    reference = solve_lascopf(case, SPREAD)
    assert reference.ok
    result = solve_lascopf(case, replace(SPREAD, method="admm"))
    assert result.ok, result.message
    assert result.objective == pytest.approx(reference.objective, rel=1e-3)
    np.testing.assert_allclose(result.dispatch_mw, reference.dispatch_mw, atol=0.05)
    assert result.max_violation_pu <= 1e-3


def test_what_the_envelope_does_not_cover_is_refused() -> None:
    case = banded(secure_case("paper5"), 0.05)
    with pytest.raises(ValueError, match="secure_spread"):
        solve_lascopf(case, replace(SPREAD, mode="corrective"))
    with pytest.raises(ValueError, match="secure_spread"):
        solve_case(case, SPREAD, backend="julia")
    with pytest.raises(ValueError, match="load band"):
        spread_cost(secure_case("paper5"))


def test_the_band_must_match_the_loads() -> None:
    case = secure_case("paper5")
    with pytest.raises(ValueError, match="load band"):
        replace(case, load_band_mw=np.ones((2, case.intervals + 1, case.buses.n)))


def test_the_lake_keeps_the_band_and_old_cases_their_hash(tmp_path) -> None:  # noqa: ANN001
    lake = LocalLake(tmp_path)
    case = banded(load_case("paper5"), 0.1)
    times = pd.date_range("2026-01-01", periods=case.intervals, freq="h")
    history = pd.DataFrame(case.load_mw, index=times - pd.Timedelta(days=1), columns=case.buses.ids)
    stored = write_case_objects(lake, case, case_hash(case), times, history)
    np.testing.assert_allclose(read_case_objects(lake, stored.prefix).load_band_mw, case.load_band_mw)
    plain = load_case("paper5")
    assert case_hash(plain) == PAPER5_HASH != case_hash(case)
    stored = write_case_objects(lake, plain, case_hash(plain), times, history)
    assert read_case_objects(lake, stored.prefix).load_band_mw is None
