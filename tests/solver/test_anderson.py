"""Anderson acceleration: it solves a slow linear fixed-point iteration in a few dozen steps, and its
Gram matrix, updated a row at a time in a ring, is the one of the differences it holds."""

import numpy as np

from data_engineering.solver.admm.anderson import Anderson


def _linear_map(n: int = 40, radius: float = 0.995, seed: int = 0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = q @ np.diag(radius * np.linspace(-1, 1, n)) @ q.T
    b = rng.standard_normal(n)
    return (lambda w: a @ w + b), np.linalg.solve(np.eye(n) - a, b)


def test_anderson_solves_a_slow_linear_iteration():
    """Plain iteration contracts by 0.995 a step (thousands of steps to 1e-8); with a memory longer
    than the dimension, Anderson's mix is exact once the differences span it. Its step lands ~200
    residuals from the plain one (1 / (1 − 0.995)): a cap of 10 (MAX_STRIDE before) refused every
    such step and left the iteration as slow as without acceleration."""
    f, fixed = _linear_map()
    w, accelerated = np.zeros(40), Anderson(memory=50)
    for _ in range(60):
        w = accelerated.step(w, f(w))
    assert np.abs(w - fixed).max() < 1e-8
    plain = np.zeros(40)
    for _ in range(60):
        plain = f(plain)
    assert np.abs(plain - fixed).max() > 1e-2


def test_ring_gram_matches_the_differences_held():
    f, _ = _linear_map(n=12, radius=0.9, seed=1)
    acc, w = Anderson(memory=5), np.ones(12)
    for _ in range(13):  # wraps the ring twice
        w = acc.step(w, f(w))
    held = acc.d_res[: acc.count]
    assert acc.count == 5
    np.testing.assert_allclose(acc.gram[:5, :5], held @ held.T, rtol=1e-12, atol=1e-12 * np.abs(held).max() ** 2)
