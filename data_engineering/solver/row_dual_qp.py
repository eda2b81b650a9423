"""A diagonal, strictly convex QP with box bounds and a few binding rows, solved in the rows' dual.

    min ½ Σ h_j x_j² + c'x   s.t.   l ≤ x ≤ u,   rl ≤ A x ≤ ru        (h > 0)

ADMM's grid-scale subproblems have this shape: thousands of columns (units, load shedding) and up to
a thousand dense PTDF rows, of which a few dozen bind. HiGHS's active-set QP frees one column per
iteration, so a first proximal solve from the LP's vertex takes tens of thousands of iterations, and
it cycled on one (154,820 iterations, 44 s, on 9,241 buses); an interior point pays for the dense
rows in every factorisation (Clarabel: 80–130 s). Here the box is exact for any multipliers λ of the
rows held at a bound (the working set W): x(λ) = clip(−(c + A_W'λ)/h, l, u), so the dual over W is
concave, piecewise quadratic and |W|-dimensional, and a projected semismooth Newton method (each
multiplier kept to its bound's sign) solves it in a few dozen steps of |W|² × columns each. Rows
join W, at the bound they break, when the solution violates them, and leave it when their
multiplier is zero; W and λ start from the previous solve's. The answer is returned only
when it satisfies the full KKT conditions; otherwise None (the caller's general solver takes over),
so this is a fast path, never a different answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

MAX_ACTIVE_SET_ROUNDS = 50
MAX_NEWTON_STEPS = 60


@dataclass(frozen=True)
class RowDualSolution:
    x: np.ndarray
    row_dual: np.ndarray  # ∂objective/∂(active row bound), HiGHS's sign convention; 0 on inactive rows
    objective: float
    working: np.ndarray  # rows held at a bound (with `sides` and `multipliers`, the next solve's start)
    sides: np.ndarray  # +1: at the upper bound, −1: at the lower one, 0: an equality
    multipliers: np.ndarray  # their λ (the negated row duals)


def solve_row_dual(h: np.ndarray, c: np.ndarray, lower: np.ndarray, upper: np.ndarray, a: sp.csr_matrix,
                   row_lower: np.ndarray, row_upper: np.ndarray, start: RowDualSolution | None = None,
                   tol: float = 1e-9) -> RowDualSolution | None:
    """The QP's solution when the working set converges within its rounds and the KKT conditions
    hold to `tol` (relative to each row's scale); None otherwise. `start`: the last solution of a
    neighbouring QP (its working set and multipliers); when the search from there fails, a cold one
    is tried before giving up."""
    if not np.all(h > 0) or not np.all(lower <= upper) or not np.all(row_lower <= row_upper):
        return None
    sol = _solve(h, c, lower, upper, a, row_lower, row_upper, start, tol)
    if sol is None and start is not None:
        sol = _solve(h, c, lower, upper, a, row_lower, row_upper, None, tol)
    return sol


def _solve(h: np.ndarray, c: np.ndarray, lower: np.ndarray, upper: np.ndarray, a: sp.csr_matrix,
           row_lower: np.ndarray, row_upper: np.ndarray, start: RowDualSolution | None,
           tol: float) -> RowDualSolution | None:
    hinv, centre = 1.0 / h, -c / h
    bound = np.maximum(np.abs(np.where(np.isfinite(row_lower), row_lower, 0)),
                       np.abs(np.where(np.isfinite(row_upper), row_upper, 0)))
    scale = tol * np.maximum(1.0, bound)
    # the working set: (row, side) entries, side +1 for the row's upper bound (λ ≥ 0), −1 for its
    # lower one (λ ≤ 0), 0 for an equality (λ free); a range row may hold both of its sides
    rows = np.flatnonzero(row_lower == row_upper)
    sides = np.zeros(len(rows), dtype=np.int8)
    lam = np.zeros(len(rows))
    if start is not None:  # the equalities (in `rows` already) take their multipliers from it too
        extra = start.sides != 0
        known = np.zeros(len(row_lower))
        known[start.working[~extra]] = start.multipliers[~extra]
        rows, sides = np.r_[rows, start.working[extra]], np.r_[sides, start.sides[extra]].astype(np.int8)
        lam = np.r_[known[rows[: len(lam)]], start.multipliers[extra]]
    for _ in range(MAX_ACTIVE_SET_ROUNDS):
        target = np.where(sides < 0, row_lower[rows], row_upper[rows])
        dense = a[rows].toarray() if len(rows) else np.zeros((0, len(h)))
        lam = _newton(dense, target, sides, hinv, centre, lower, upper, lam, scale[rows])
        if lam is None:
            return None
        x = np.clip(centre - hinv * (dense.T @ lam), lower, upper)
        flows = a @ x
        over = np.flatnonzero(flows > row_upper + scale)
        under = np.flatnonzero(flows < row_lower - scale)
        held = (lam != 0) | (sides == 0)  # equalities stay: they hold whatever their multiplier
        if not len(over) and not len(under):
            row_dual = np.zeros(a.shape[0])
            np.subtract.at(row_dual, rows, lam)
            objective = float(0.5 * h @ (x * x) + c @ x)
            return RowDualSolution(x, row_dual, objective, rows[held], sides[held], lam[held])
        rows = np.r_[rows[held], over, under]
        sides = np.r_[sides[held], np.ones(len(over), np.int8), -np.ones(len(under), np.int8)]
        lam = np.r_[lam[held], np.zeros(len(over) + len(under))]
    return None


def _newton(dense: np.ndarray, target: np.ndarray, sides: np.ndarray, hinv: np.ndarray, centre: np.ndarray,
            lower: np.ndarray, upper: np.ndarray, lam: np.ndarray, tol: np.ndarray) -> np.ndarray | None:
    """Maximise the dual φ(λ) = min over the box of ½‖x‖²_h + c'x + λ'(A_W x − b) subject to the
    multipliers' signs (sides × λ ≥ 0), by projected semismooth Newton: ∇φ = A_W x(λ) − b, and
    −A_W,F diag(1/h_F) A_W,F' (F: the columns strictly inside their bounds) is a generalised Hessian.
    The step length is exact: φ along the ray is concave and piecewise quadratic, so its slope is
    monotone and bisected to zero, stopping where a multiplier would change sign. Entries at zero
    whose gradient points out of their sign are held there for the step. None when it does not
    converge (the rows' bounds cannot all be met within the box)."""
    if not len(target):
        return lam
    signed = sides != 0
    sqrt_h = 1.0 / np.sqrt(hinv)

    def value(lam: np.ndarray, x: np.ndarray) -> float:  # φ up to a constant: ½‖x − centre‖²_h + λ'(A_W x − b)
        gap = (x - centre) * sqrt_h
        return float(0.5 * gap @ gap + lam @ (dense @ x - target))

    free_x = centre - hinv * (dense.T @ lam)
    for _ in range(MAX_NEWTON_STEPS):
        # a multiplier within rounding of zero is zero: left at 1e-20 it would stop every step there
        tiny = signed & (sides * lam < 1e-10 * max(1.0, float(np.abs(lam).max())))
        if tiny.any():
            lam = np.where(tiny, 0.0, lam)
            free_x = centre - hinv * (dense.T @ lam)
        x = np.clip(free_x, lower, upper)
        grad = dense @ x - target
        held = signed & (lam == 0) & (sides * grad <= 0)  # the row's flow is within that bound
        if np.all(np.abs(grad[~held]) <= tol[~held]):
            return lam
        free = np.flatnonzero((free_x > lower) & (free_x < upper))
        while True:  # an entry at zero that the step would take across zero is held there too
            moving = np.flatnonzero(~held)
            if not len(moving):  # every entry the step would move is held: no progress to make
                return None
            part = dense[np.ix_(moving, free)] * np.sqrt(hinv[free])
            hessian = part @ part.T
            hessian[np.diag_indices_from(hessian)] += 1e-9 * max(float(np.trace(hessian)) / len(moving), 1e-12)
            step = np.zeros(len(lam))
            step[moving] = np.linalg.solve(hessian, grad[moving])
            crossing = signed & (lam == 0) & (sides * step < 0)
            if not crossing.any():
                break
            held |= crossing
        shrinking = signed & (sides * step < 0)
        t_max = float(np.min(-lam[shrinking] / step[shrinking])) if shrinking.any() else np.inf
        q = dense.T @ step
        t_ray = _exact_step(q, float(step @ target), free_x, hinv, lower, upper, np.inf)
        if t_ray is None and not np.isfinite(t_max):
            return None
        t = t_ray if t_ray is not None else t_max
        # past the first multiplier to reach zero, project (Bertsekas): many may reach it in one step
        base = value(lam, x)
        while t > t_max:
            trial = np.where(signed & (sides * (lam + t * step) < 0), 0.0, lam + t * step)
            trial_x = np.clip(centre - hinv * (dense.T @ trial), lower, upper)
            if value(trial, trial_x) >= base + 1e-4 * float(grad @ (trial - lam)):
                break
            t *= 0.5
        else:
            t = _exact_step(q, float(step @ target), free_x, hinv, lower, upper, t_max)
            if t is None or t <= 0:
                return None
            trial = lam + t * step
            trial[shrinking & (sides * trial <= 0)] = 0.0
        lam = trial
        free_x = centre - hinv * (dense.T @ lam)
    return None


def _exact_step(q: np.ndarray, drift: float, free_x: np.ndarray, hinv: np.ndarray, lower: np.ndarray,
                upper: np.ndarray, t_max: float) -> float | None:
    """The t in (0, t_max] maximising φ(λ + t d), whose slope q'x(t) − d'b, x(t) = clip(free_x − t q/h),
    falls monotonically; None when it still rises at 2^60 (φ unbounded: no x in the box meets the rows)."""
    g = hinv * q

    def slope(t: float) -> float:
        return float(q @ np.clip(free_x - t * g, lower, upper)) - drift

    if np.isfinite(t_max) and slope(t_max) >= 0:
        return t_max
    low, high = 0.0, t_max if np.isfinite(t_max) else 1.0
    while slope(high) > 0:
        low, high = high, 2 * high
        if high > 2.0 ** 60:
            return None
    for _ in range(100):
        mid = 0.5 * (low + high)
        if mid in (low, high):
            break
        low, high = (mid, high) if slope(mid) > 0 else (low, mid)
    return high
