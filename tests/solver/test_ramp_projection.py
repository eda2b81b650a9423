"""The ADMM ramp projection's exact chain algorithm against a dense QP solver (DAQP) on random chains:
bounds, steps (forced rises and falls, one-sided, fixed), weights, P0 given or not, and unreachable
bounds, which must be reported infeasible with the device."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from data_engineering.solver.admm.ramps import RampInfeasible, RampProjection
from data_engineering.solver.cases import load_case
from data_engineering.solver.contingencies import select
from data_engineering.solver.model import build_model
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.qp import DenseQP


def chains(rng: np.random.Generator, T: int, D: int) -> SimpleNamespace:
    """D devices over T intervals, the last one without ramps; `Model.ramp_chain`'s row layout."""
    lower = rng.uniform(-20, 50, D) + rng.uniform(0, 10, (T, D)) * rng.integers(0, 2, D)
    upper = lower + rng.uniform(10, 100, D) * (rng.random((T, D)) > 0.03)  # some fixed intervals
    down, up = rng.uniform(0, 25, D) * rng.uniform(0.5, 1, (T, D)), rng.uniform(0, 25, D) * rng.uniform(0.5, 1, (T, D))
    down[:, rng.random(D) < 0.2], up[:, rng.random(D) < 0.2] = np.inf, np.inf
    shift = rng.uniform(-10, 10, (T, D)) * (rng.random((T, D)) < 0.1)  # forced moves: a step's range off 0
    p0 = np.where(rng.random(D) < 0.3, np.nan, rng.uniform(lower[0] - 15, upper[0] + 15))

    def ramp_chain(d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        steps, base = np.eye(T) - np.eye(T, k=-1), np.zeros(T)
        lo, hi = shift[:, d] - down[:, d], shift[:, d] + up[:, d]
        if np.isnan(p0[d]):
            return steps[1:], lo[1:], hi[1:]
        base[0] = p0[d]
        return steps, base + lo, base + hi

    return SimpleNamespace(intervals=T, lower=lower, upper=upper, ramp_limited=np.arange(D - 1),
                           ramp_chain=ramp_chain)


def reference(model: SimpleNamespace, total: np.ndarray, copies: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """The projection by one DAQP chain QP per ramp-limited device, and the devices it finds infeasible."""
    z, infeasible = np.clip(total / copies[:, None], model.lower, model.upper), []
    for d in model.ramp_limited:
        qp = DenseQP(np.zeros(model.intervals), copies, model.lower[:, d], model.upper[:, d])
        qp.add_rows(*model.ramp_chain(d))
        qp.set_cost(-total[:, d])
        sol = qp.solve()
        assert sol.optimal or sol.status == "infeasible", sol.status
        if sol.optimal:
            z[:, d] = sol.x
        else:
            infeasible.append(int(d))
    return z, infeasible


@pytest.mark.parametrize("T", [1, 2, 5, 24])
def test_it_matches_the_chain_qps_on_random_chains(T: int) -> None:
    rng = np.random.default_rng(T)
    solved = infeasible = 0
    for _ in range(300):
        model = chains(rng, T, 4)
        copies = rng.uniform(0.5, 6, T) if rng.random() < 0.5 else rng.integers(1, 8, T).astype(float)
        total = copies[:, None] * rng.uniform(-40, 200, (T, 4))
        expected, unreachable = reference(model, total, copies)
        if unreachable:
            with pytest.raises(RampInfeasible, match=f"^device {unreachable[0]}: P0 cannot reach its limits"):
                RampProjection(model).project(total, copies)
            infeasible += 1
        else:
            np.testing.assert_allclose(RampProjection(model).project(total, copies), expected, rtol=0, atol=1e-7)
            solved += 1
    assert solved >= 100 and (T == 1 or infeasible >= 20)  # both kinds are exercised


def test_an_unreachable_bound_is_reported_with_its_device() -> None:
    """P0 = 100 MW ramping 10 MW an interval cannot reach 150 MW by the third interval."""
    steps = np.eye(3) - np.eye(3, k=-1)
    model = SimpleNamespace(intervals=3, lower=np.array([[0.0, 0], [0, 0], [0, 150]]), upper=np.full((3, 2), 200.0),
                            ramp_limited=np.array([0, 1]),
                            ramp_chain=lambda d: (steps, np.r_[100.0 - 10, -10, -10], np.r_[100.0 + 10, 10, 10]))
    with pytest.raises(RampInfeasible, match="^device 1: P0 cannot reach its limits within the ramps$"):
        RampProjection(model).project(np.full((3, 2), 120.0), np.ones(3))


def test_it_matches_the_chain_qps_on_a_model() -> None:
    """118 buses, 24 intervals, ramps ×0.2: the projection of perturbed dispatches moves most units."""
    case = select(load_case("pglib_opf_case118_ieee", 24), "none")[0].with_ramp_factor(0.2)
    model = build_model(case, SolveOptions())
    rng = np.random.default_rng(0)
    projection, moved = RampProjection(model), 0
    for _ in range(5):
        copies = rng.integers(1, 4, model.intervals).astype(float)
        total = copies[:, None] * rng.uniform(model.lower, model.upper)
        expected, unreachable = reference(model, total, copies)
        assert not unreachable
        z = projection.project(total, copies)
        np.testing.assert_allclose(z, expected, rtol=0, atol=1e-7)
        moved += (~np.isclose(z, np.clip(total / copies[:, None], model.lower, model.upper))).any(axis=0).sum()
    assert moved >= 50
