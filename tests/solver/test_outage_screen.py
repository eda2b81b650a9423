"""The fused branch-outage screen against the numpy path it replaces: same violations, same excess,
same loaded outages, same worst branch — and the same optimum through the centralized screening."""

from __future__ import annotations

import numpy as np
import pytest

from data_engineering.solver.cases import load_case
from data_engineering.solver.contingencies import select
from data_engineering.solver.model import build_model
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.outage_screen import branch_outage_overloads, worst_branch_outage_overloads
from data_engineering.solver.security import ScreenedLimits
from data_engineering.solver.solve import solve_lascopf
from data_engineering.solver.verify import verify


@pytest.fixture(scope="module")
def insecure():  # noqa: ANN201
    """118 buses, 3 intervals, all N-1 plus two unit outages at 1.0× emergency ratings, and the
    unsecured optimum: it overloads many branches after many outages."""
    base = load_case("pglib_opf_case118_ieee", 3)
    case = select(base, "all,G:G12,G:G29")[0]
    model = build_model(case, SolveOptions())
    x = solve_lascopf(select(base, "none")[0]).dispatch_mw
    return model, x


def test_it_finds_exactly_the_overloads_of_the_numpy_path(insecure) -> None:  # noqa: ANN001
    model, x = insecure
    scenarios = np.flatnonzero(model.shift_only)
    assert 100 < len(scenarios) < model.n_scenarios - 2  # the unit outages and bridges are not shift-only
    intervals = np.arange(model.intervals)
    i, j, element, excess, near = model.violations(x, intervals, scenarios, model.response(x, scenarios), 1e-3, 0.9)
    base = model.flows(x)
    fi, fj, fl, fe, loaded = branch_outage_overloads(base, model.network.lodf_rows(model.outages[scenarios]),
                                                     model.outages[scenarios], model.case.branches.emergency_mw,
                                                     1e-3, 0.9)
    assert len(i) > 50
    ours = sorted(zip(fi.tolist(), fj.tolist(), fl.tolist(), fe.tolist(), strict=True))
    numpy = sorted(zip(i.tolist(), j.tolist(), element.tolist(), excess.tolist(), strict=True))
    assert ours == numpy  # bit for bit: the same operations in the same order
    np.testing.assert_array_equal(loaded, near)
    assert loaded.any() and not loaded.all()


def test_worst_overload_and_its_branch_match_the_numpy_path(insecure) -> None:  # noqa: ANN001
    model, x = insecure
    scenarios = np.flatnonzero(model.shift_only)
    over = model.overloads(x, scenarios=scenarios)[..., : model.case.branches.n]
    worst, branch = worst_branch_outage_overloads(model.flows(x), model.network.lodf_rows(model.outages[scenarios]),
                                                  model.outages[scenarios], model.case.branches.emergency_mw)
    np.testing.assert_array_equal(worst, over.max(axis=2))
    np.testing.assert_array_equal(branch, over.argmax(axis=2))


def test_verification_reports_the_same_worst_violation_either_way(insecure, monkeypatch) -> None:  # noqa: ANN001
    model, x = insecure
    fused = verify(model, x)
    assert fused.violation_mw["contingency_flows"] > 1.0
    monkeypatch.setattr(type(model), "shift_only", property(lambda m: np.zeros(m.n_scenarios, dtype=bool)))
    plain = verify(model, x)
    assert fused.violation_mw == plain.violation_mw and fused.worst == plain.worst


def test_screening_with_and_without_the_fused_pass_reaches_the_same_optimum(monkeypatch) -> None:  # noqa: ANN001
    case = select(load_case("pglib_opf_case118_ieee", 4).with_emergency_factor(1.2), "all")[0]
    fused = solve_lascopf(case)
    monkeypatch.setattr(ScreenedLimits, "_shift_only", property(lambda s: np.zeros(len(s.scenarios), dtype=bool)))
    plain = solve_lascopf(case)
    assert fused.ok and plain.ok
    assert fused.objective == pytest.approx(plain.objective, rel=1e-9)
    assert fused.screening_rounds == plain.screening_rounds
