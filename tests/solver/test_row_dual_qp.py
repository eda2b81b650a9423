"""The row-dual fast path for strictly convex diagonal QPs (`row_dual_qp`) against HiGHS's QP on the
same problems: the same solution, objective and row duals, or no answer at all (never another one)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from data_engineering.solver import row_dual_qp
from data_engineering.solver.qp import DiagonalQP
from data_engineering.solver.row_dual_qp import solve_row_dual


def _problem(seed: int, n: int = 300, m: int = 60) -> dict:
    """Dense flow-like rows over a box, one balance equality, the rows' limits tight enough that a few bind."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(m, n)) * (rng.random((m, n)) < 0.4)
    a[0] = 1.0  # the balance row
    lower, upper = rng.uniform(-5, 0, n), rng.uniform(0.5, 5, n)
    x0 = rng.uniform(lower, upper)
    flows = a @ x0
    spread = rng.uniform(0.2, 3.0, m)
    row_lower, row_upper = flows - spread, flows + spread
    row_lower[0] = row_upper[0] = flows[0]
    row_lower[rng.random(m) < 0.2] = -np.inf
    return {"h": rng.uniform(0.1, 2.0, n), "c": rng.normal(scale=5.0, size=n), "lower": lower, "upper": upper,
            "a": sp.csr_matrix(a), "row_lower": row_lower, "row_upper": row_upper}


def _highs(p: dict):  # noqa: ANN202
    qp = DiagonalQP(p["c"], p["h"], p["lower"], p["upper"])
    qp.add_rows(p["a"], p["row_lower"], p["row_upper"])
    return qp.solve()


@pytest.mark.parametrize("seed", range(12))
def test_the_row_dual_solution_is_highs_solution(seed: int) -> None:
    p = _problem(seed)
    reference = _highs(p)
    assert reference.optimal
    sol = solve_row_dual(**p)
    assert sol is not None
    _assert_kkt(p, sol.x, sol.row_dual)
    # HiGHS stops within its own tolerances (rows up to 5e-5 beyond their bounds here): as good, or worse
    assert sol.objective == pytest.approx(reference.objective, rel=1e-7)
    assert sol.objective <= reference.objective + 1e-9 * abs(reference.objective)
    np.testing.assert_allclose(sol.x, reference.x, atol=1e-4)
    np.testing.assert_allclose(sol.row_dual, reference.row_dual, atol=1e-3)


def _assert_kkt(p: dict, x: np.ndarray, y: np.ndarray, tol: float = 1e-7) -> None:
    """Feasible; y (HiGHS's sign: ∂objective/∂bound) nonzero only on rows at a bound, ≤ 0 at an upper
    one and ≥ 0 at a lower one; the reduced cost h x + c − A'y zero on free columns, signed at bounds."""
    flows = p["a"] @ x
    assert np.all(flows <= p["row_upper"] + tol) and np.all(flows >= p["row_lower"] - tol)
    assert np.all(x <= p["upper"]) and np.all(x >= p["lower"])
    at_upper, at_lower = flows >= p["row_upper"] - 1e-6, flows <= p["row_lower"] + 1e-6
    assert np.all(y[~at_upper & ~at_lower] == 0)
    assert np.all(y[at_upper & ~at_lower] <= 1e-9) and np.all(y[at_lower & ~at_upper] >= -1e-9)
    reduced = p["h"] * x + p["c"] - p["a"].T @ y
    inside = (x > p["lower"] + 1e-9) & (x < p["upper"] - 1e-9)
    np.testing.assert_allclose(reduced[inside], 0.0, atol=1e-6)
    assert np.all(reduced[x <= p["lower"] + 1e-9] >= -1e-6) and np.all(reduced[x >= p["upper"] - 1e-9] <= 1e-6)


def test_a_warm_start_from_the_last_solution_gives_the_same_answer() -> None:
    p = _problem(3)
    cold = solve_row_dual(**p)
    assert np.count_nonzero(cold.multipliers) > 1  # a start with multipliers to carry
    np.testing.assert_array_equal(cold.row_dual[cold.working], -cold.multipliers)
    p["c"] = p["c"] + 0.01
    warm, again = solve_row_dual(**p, start=cold), solve_row_dual(**p)
    assert warm is not None and again is not None
    np.testing.assert_allclose(warm.x, again.x, atol=1e-6)
    _assert_kkt(p, warm.x, warm.row_dual)


def test_a_warm_start_that_fails_is_followed_by_a_cold_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The search from a start that does not converge (here: made to fail) is not the last word."""
    p = _problem(7)
    cold = solve_row_dual(**p)
    p["c"] = p["c"] * 1.1
    calls = []
    newton = row_dual_qp._newton

    def fails_first(*args):  # noqa: ANN002, ANN202
        calls.append(len(args[1]))
        return None if len(calls) == 1 else newton(*args)

    monkeypatch.setattr(row_dual_qp, "_newton", fails_first)
    warm = solve_row_dual(**p, start=cold)
    assert warm is not None and len(calls) > 1
    assert calls[1] == np.count_nonzero(p["row_lower"] == p["row_upper"])  # the cold search: equalities only
    _assert_kkt(p, warm.x, warm.row_dual)


def test_infeasible_rows_or_a_zero_curvature_give_no_answer() -> None:
    p = _problem(4)
    p["row_lower"][0] = p["row_upper"][0] = p["upper"].sum() + 1.0  # the balance beyond every column's maximum
    assert solve_row_dual(**p) is None
    q = _problem(5)
    q["h"][7] = 0.0
    assert solve_row_dual(**q) is None


def test_diagonal_qp_takes_the_fast_path_and_falls_back_to_highs() -> None:
    p = _problem(6)
    fast = DiagonalQP(p["c"], p["h"], p["lower"], p["upper"], row_dual=True)
    fast.add_rows(p["a"], p["row_lower"], p["row_upper"])
    reference = _highs(p)
    sol = fast.solve()
    assert sol.optimal and sol.objective == pytest.approx(reference.objective, rel=1e-9)
    assert fast._held is not None  # noqa: SLF001 - the fast path answered
    fast.set_hessian(np.r_[0.0, p["h"][1:]])  # not strictly convex: HiGHS
    assert fast.solve().optimal
