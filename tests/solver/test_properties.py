"""Property tests on random connected small networks: whatever the data, a clear status, and when
optimal, a verified answer on which the decomposition agrees with the centralized reference."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_engineering.solver.case import Branches, Buses, Case, Generators
from data_engineering.solver.contingencies import select
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.solve import solve_lascopf


@st.composite
def networks(draw) -> Case:  # noqa: ANN001
    n = draw(st.integers(3, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    edges = [(int(rng.integers(0, k)), k) for k in range(1, n)]  # a random spanning tree: connected
    extra = draw(st.integers(0, n))
    edges += [tuple(sorted(rng.choice(n, 2, replace=False).tolist())) for _ in range(extra)]
    L = len(edges)
    T = draw(st.integers(1, 3))
    n_gen = draw(st.integers(1, 3))
    pmax = rng.uniform(50, 200, n_gen)
    load = rng.uniform(0, 60, n) * draw(st.floats(0.3, 1.5))
    load_t = np.outer(1 + 0.1 * rng.standard_normal(T), load).clip(0)
    rate = rng.uniform(20, 150, L)
    branches = Branches(from_bus=np.array([e[0] for e in edges]), to_bus=np.array([e[1] for e in edges]),
                        x_pu=rng.uniform(0.02, 0.3, L), rate_mw=rate, emergency_mw=rate * 1.2,
                        in_service=np.ones(L, dtype=bool), names=tuple(f"{a + 1}-{b + 1}#{i}" for i, (a, b) in
                                                                       enumerate(edges)))
    gens = Generators(bus=rng.choice(n, n_gen), c2=rng.uniform(0, 0.1, n_gen), c1=rng.uniform(10, 40, n_gen),
                      c0=np.zeros(n_gen), pmin_mw=np.zeros(n_gen), pmax_mw=pmax, ramp_up_mw=0.5 * pmax,
                      ramp_down_mw=0.5 * pmax, p0_mw=pmax * rng.uniform(0, 1, n_gen), names=tuple(
                          f"G{k + 1}" for k in range(n_gen)))
    return Case("random", 100.0, Buses(np.arange(1, n + 1), 0), branches, gens, load_t)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(), st.sampled_from(["none", "all"]))
def test_random_networks_get_a_clear_status_and_agreeing_answers(case: Case, contingencies: str) -> None:
    case = select(case, contingencies)[0]
    reference = solve_lascopf(case, SolveOptions(method="centralized"))
    assert reference.status in ("optimal", "infeasible"), reference.message
    if not reference.ok:
        assert reference.message and reference.dispatch_mw is None
        return
    assert reference.max_violation_pu < 1e-6
    np.testing.assert_allclose(reference.dispatch_mw.sum(axis=1), case.load_mw.sum(axis=1), atol=1e-6)
    admm = solve_lascopf(case, SolveOptions(method="admm"))
    assert admm.ok, admm.message
    assert abs(admm.objective - reference.objective) <= 1e-3 * abs(reference.objective) + 1e-6
    assert admm.max_violation_pu <= 1e-3
