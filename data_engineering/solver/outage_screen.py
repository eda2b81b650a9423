"""The N-1 branch-outage screen as one fused pass over (outage, interval, branch).

After the outage of branch k, branch l carries `f_l + LODF[l, k] · f_k`. Screening every outage of a
grid-scale case this way in numpy builds interval × outage × branch arrays and walks them several
times (shift, add, abs, compare, moved, any, nonzero): on 9,241 buses, 12 intervals and 14,384
outages that is 2.8·10⁹ cells a pass and over a minute a screen. Here each cell is computed once,
in compiled code, outages in parallel: a first pass counts the overloads per outage and says which
outages are loaded (what a partial screen re-checks), a second writes out the few that overload.
The arithmetic is the numpy path's, operation for operation, so both find the same limits.
"""

from __future__ import annotations

import threading

import numba
import numpy as np
from numba import njit, prange

# The ADMM worker processes are forked; GNU OpenMP (numba's default pick here) aborts a forked
# child that runs parallel code. A fork-safe layer (TBB if installed, else numba's workqueue) is
# not safe for calls from several threads at once: `_LOCK` serialises them.
numba.config.THREADING_LAYER = "forksafe"
_LOCK = threading.Lock()


def set_screen_threads(n: int) -> None:
    """Threads the compiled passes use in this process (default: one per core)."""
    numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))


LODF_CELLS = 4_000_000  # LODF rows (outages × branches) per pass: the new ones are solved ~32 MB at a time


def outage_blocks(positions: np.ndarray, n_branches: int) -> list[np.ndarray]:
    """`positions` in blocks whose LODF rows stay near LODF_CELLS cells."""
    size = max(1, LODF_CELLS // max(1, n_branches))
    return [positions[i:i + size] for i in range(0, len(positions), size)]


@njit(parallel=True, cache=True)
def _count(base, shifts, at, outages, rating, tol, loading, counts, loaded):  # noqa: ANN001, ANN202
    T, L = base.shape
    for j in prange(outages.shape[0]):
        k, row, found, hot = outages[j], shifts[at[j]], 0, False
        for t in range(T):
            moved = base[t, k]
            for n in range(L):
                shift = row[n] * moved
                flow = abs(base[t, n] + shift)
                if flow > rating[n] + tol:
                    found += 1
                if flow > loading * rating[n] and abs(shift) > (1.0 - loading) * rating[n]:
                    hot = True
        counts[j], loaded[j] = found, hot


@njit(parallel=True, cache=True)
def _fill(base, shifts, at_row, outages, rating, tol, offsets, interval, position, branch, excess):  # noqa: ANN001, ANN202
    T, L = base.shape
    for j in prange(outages.shape[0]):
        at = offsets[j]
        if offsets[j + 1] == at:
            continue
        k, row = outages[j], shifts[at_row[j]]
        for t in range(T):
            moved = base[t, k]
            for n in range(L):
                flow = abs(base[t, n] + row[n] * moved)
                if flow > rating[n] + tol:
                    interval[at], position[at], branch[at], excess[at] = t, j, n, flow - rating[n]
                    at += 1


@njit(parallel=True, cache=True)
def _worst(base, shifts, at, outages, rating, worst, branch):  # noqa: ANN001, ANN202
    T, L = base.shape
    for j in prange(outages.shape[0]):
        k, row = outages[j], shifts[at[j]]
        for t in range(T):
            moved, best, hit = base[t, k], -np.inf, 0
            for n in range(L):
                excess = abs(base[t, n] + row[n] * moved) - rating[n]
                if excess > best:
                    best, hit = excess, n
            worst[t, j], branch[t, j] = best, hit


def _arrays(base: np.ndarray, lodf_rows: np.ndarray, rows: np.ndarray | None, outages: np.ndarray,
            rating: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rows = np.arange(len(outages)) if rows is None else rows
    return (np.ascontiguousarray(base, dtype=np.float64), np.ascontiguousarray(lodf_rows, dtype=np.float64),
            np.ascontiguousarray(rows, dtype=np.int64), np.ascontiguousarray(outages, dtype=np.int64),
            np.ascontiguousarray(rating, dtype=np.float64))


def worst_branch_outage_overloads(base: np.ndarray, lodf_rows: np.ndarray, outages: np.ndarray, rating: np.ndarray,
                                  rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(T, K) the largest flow excess (MW, ≤ 0 within) after each outage and (T, K) its branch (the
    first such, like numpy's argmax): what the full constraint check needs of each outage. `lodf_rows`
    and `rows` as in `branch_outage_overloads`."""
    base, lodf_rows, rows, outages, rating = _arrays(base, lodf_rows, rows, outages, rating)
    worst = np.empty((base.shape[0], len(outages)))
    branch = np.zeros((base.shape[0], len(outages)), dtype=np.int64)
    with _LOCK:
        _worst(base, lodf_rows, rows, outages, rating, worst, branch)
    return worst, branch


def branch_outage_overloads(base: np.ndarray, lodf_rows: np.ndarray, outages: np.ndarray, rating: np.ndarray,
                            tol_mw: float, loading: float, rows: np.ndarray | None = None
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Overloads after each branch outage of a base-flow trajectory.

    `base` (T, L) base-case flows; `lodf_rows` (R, L) LODF columns as rows (−1 at the outage's own
    branch, zero for a bridge), the one of outage `outages[i]` (K,) at row `rows[i]` (None: row i —
    `Network.lodf_store` hands over its cache this way, uncopied); `rating` (L,) the post-contingency
    ratings. Returns (interval, outage position, branch, excess MW) of every flow beyond `rating + tol_mw`,
    and per outage whether it is loaded: a flow beyond `loading` × rating that the outage moved by
    more than the rest of the rating."""
    base, lodf_rows, rows, outages, rating = _arrays(base, lodf_rows, rows, outages, rating)
    counts = np.zeros(len(outages), dtype=np.int64)
    loaded = np.zeros(len(outages), dtype=np.bool_)
    with _LOCK:
        _count(base, lodf_rows, rows, outages, rating, float(tol_mw), float(loading), counts, loaded)
        offsets = np.r_[0, np.cumsum(counts)]
        total = int(offsets[-1])
        interval, position, branch = (np.empty(total, dtype=np.int64) for _ in range(3))
        excess = np.empty(total)
        if total:
            _fill(base, lodf_rows, rows, outages, rating, float(tol_mw), offsets, interval, position, branch, excess)
    return interval, position, branch, excess, loaded


def overloads_by_block(network, base: np.ndarray, outages: np.ndarray, rating: np.ndarray, tol_mw: float,  # noqa: ANN001
                       loading: float):  # noqa: ANN201 - a generator of (positions, overloads)
    """`branch_outage_overloads` of the branch `outages`, their LODF rows read in the network's cache
    (`network.lodf_store`) a block at a time (`outage_blocks`): yields each block's positions in
    `outages` and its result."""
    for block in outage_blocks(np.arange(len(outages)), network.n_branches):
        store, rows = network.lodf_store(outages[block])
        yield block, branch_outage_overloads(base, store, outages[block], rating, tol_mw, loading, rows)
