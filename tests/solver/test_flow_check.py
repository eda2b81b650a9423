"""The flow check that stands for the screen in ADMM subproblems says a copy is secure only when the
screen would find no violated limit, base case and branch outages alike, and catches what it finds."""

from __future__ import annotations

import numpy as np

from data_engineering.solver.admm.subproblem import FlowCheck
from data_engineering.solver.cases import load_case
from data_engineering.solver.centralized import solve_extensive
from data_engineering.solver.contingencies import select
from data_engineering.solver.model import build_model
from data_engineering.solver.options import SolveOptions

TOL_MW = 1e-3


def test_flow_check_agrees_with_the_screen_on_every_copy():
    case = select(load_case("pglib_opf_case118_ieee", 6).with_emergency_factor(1.2), "all")[0]
    model = build_model(case, SolveOptions(method="admm"))
    x = solve_extensive(model).x  # secure, with limits binding
    plain = np.flatnonzero((np.arange(model.n_scenarios) == 0) | model.shift_only)
    check = FlowCheck(model)
    assert check.covers(tuple(int(s) for s in plain)) and len(plain) > 150
    rng = np.random.default_rng(3)
    copies = np.vstack([x, x * rng.uniform(0.9, 1.1, x.shape), x + rng.normal(0, 5, x.shape)])
    copies = np.clip(copies, np.tile(model.lower, (3, 1)), np.tile(model.upper, (3, 1)))
    intervals = np.tile(np.arange(model.intervals), 3)
    secure = check.secure(intervals, copies, TOL_MW, model.outages[plain[plain > 0]])
    screened = np.array([len(model.violations(copies[[r]], intervals[[r]], plain,
                                              model.response(copies[[r]], plain, intervals[[r]]), TOL_MW)[0]) == 0
                         for r in range(len(copies))])
    assert (secure == screened).all()
    assert secure.sum() >= model.intervals and (~secure).sum() >= model.intervals  # both kinds are tested
    base_only = check.secure(intervals, copies, TOL_MW)
    assert (base_only >= secure).all() and (base_only > secure).any()  # some copies break only outage limits


def test_flow_check_leaves_unit_outages_to_the_screen():
    """A lost unit moves the others' output (the pickup): not a shift of flows, so the screen checks it."""
    case = select(load_case("pglib_opf_case14_ieee", 2), "all-gen")[0]
    model = build_model(case, SolveOptions(method="admm"))
    assert not FlowCheck(model).covers(tuple(range(model.n_scenarios)))
    assert FlowCheck(model).covers((0,))
