"""Security limits screened into a QP: the rows a (interval, scenario) needs, added when violated.

Shared by the centralized extensive form (all intervals and scenarios) and the ADMM subproblems (one
interval, some scenarios), so both hold exactly the same rows. A preventive limit is a row over the
base dispatch of its interval; in corrective mode a contingency's limits are rows over a dispatch of
its own (`Model.corrective_block`: new columns, their balance and their reach from the base), added
once the preventive response breaks a limit or a corrective ramp — otherwise the response itself is
that scenario's corrective dispatch, and is checked as one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from data_engineering.solver.duals import PricedRows
from data_engineering.solver.model import Model
from data_engineering.solver.outage_screen import overloads_by_block
from data_engineering.solver.qp import DenseQP, DiagonalQP, QPSolution

log = logging.getLogger(__name__)
WATCH_LOADING = 0.9  # a scenario with a flow beyond this share of its rating is re-screened every round


@dataclass(frozen=True)
class Screening:
    """How limits are screened into a QP: violated beyond `tol_mw`; at most `max_rows` per interval
    and round, the most violated first (None: every violated one)."""

    tol_mw: float = 1e-3
    max_rows: int | None = None


class LimitSet:
    """The (interval position, scenario position, element) limits already in the QP, as sorted flat
    keys: as a bool cube it would be intervals × scenarios × elements (4.5·10⁹ on 9,241 buses, 12
    intervals, all N-1, shedding), for a few thousand rows."""

    def __init__(self, shape: tuple[int, int, int]) -> None:
        self.shape, self.keys = shape, np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.keys)

    def _flat(self, i: np.ndarray, j: np.ndarray, element: np.ndarray) -> np.ndarray:
        return np.ravel_multi_index((i, j, element), self.shape).astype(np.int64)

    def contains(self, i: np.ndarray, j: np.ndarray, element: np.ndarray) -> np.ndarray:
        return np.isin(self._flat(i, j, element), self.keys, assume_unique=False)

    def add(self, i: np.ndarray, j: np.ndarray, element: np.ndarray) -> None:
        self.keys = np.union1d(self.keys, self._flat(i, j, element))


class ScreenedLimits:
    def __init__(self, model: Model, qp: DiagonalQP | DenseQP, intervals: np.ndarray, scenarios: np.ndarray,
                 base_columns: Callable[[int], np.ndarray], tol_mw: float, max_rows: int | None = None) -> None:
        """`max_rows`: at most this many limits per interval and round, the most violated first (None:
        every violated one). On a large case one answer violates thousands of post-contingency limits
        that a few of them relieve together; adding them all makes each re-solve slower."""
        self.model, self.qp, self.tol_mw, self.max_rows = model, qp, tol_mw, max_rows
        self.intervals, self.scenarios = np.asarray(intervals), np.asarray(scenarios)
        self.base_columns = base_columns
        self.present = LimitSet((len(self.intervals), len(self.scenarios), model.n_elements))
        # (t, s) → the devices of its corrective dispatch and the columns holding them (own or base)
        self.blocks: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self.security: list[PricedRows] = []
        self.balances: list[PricedRows] = []  # corrective blocks' balance rows
        self.watched = np.ones(len(self.scenarios), dtype=bool)  # what a partial screen looks at

    @property
    def priced(self) -> list[PricedRows]:
        return [*self.security, *self.balances]

    def dispatch(self, v: np.ndarray, positions: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Base dispatch (T', D) and scenario dispatches (T', S', D) of the QP solution `v`, for the
        scenarios at `positions` (default all: on a grid-scale case that array is gigabytes)."""
        positions = np.arange(len(self.scenarios)) if positions is None else positions
        x = np.vstack([v[self.base_columns(int(t))] for t in self.intervals])
        xs = self.model.response(x, self.scenarios[positions], self.intervals)
        for (t, s), (devices, columns) in self.blocks.items():
            j = np.flatnonzero(positions == self._j(s))
            if len(j) and columns.max(initial=-1) < len(v):  # not a block added since `v`
                xs[self._i(t), j[0]] = 0.0
                xs[self._i(t), j[0], devices] = v[columns]
        return x, xs

    def settle(self, solve: Callable[[], QPSolution], max_rounds: int | None = None,
               secure: Callable[[np.ndarray], bool] | None = None,
               first: QPSolution | None = None) -> tuple[str, QPSolution | None, int]:
        """Solve, add the limits the answer violates, re-solve, until a full screen finds none: the
        optimum with every limit. A full screen is followed by partial ones (the loaded scenarios)
        while they find violations. `secure(v)`: a cheaper test that, when true, says the screen would
        add nothing. `first`: the first round's answer, when the caller has solved already. Returns
        the status, the last answer (None unless optimal) and the rounds; `not_converged` after
        `max_rounds`."""
        full, rounds = True, 0
        while max_rounds is None or rounds < max_rounds:
            rounds += 1
            sol = first if first is not None and rounds == 1 else solve()
            if not sol.optimal:
                return sol.status, None, rounds
            if secure is not None and secure(sol.x):
                return "optimal", sol, rounds
            added = self.screen(sol.x, full)
            if added == 0 and not full:
                full = True
                added = self.screen(sol.x, full)
            log.debug("screening round %d (%s): objective %.4f, %d limits added", rounds,
                      "full" if full else "partial", sol.objective, added)
            if added == 0:
                return "optimal", sol, rounds
            full = False
        return "not_converged", None, rounds

    def screen(self, v: np.ndarray, full: bool = True) -> int:
        """Add the limits (and corrective blocks) the solution `v` violates; how many were added.
        `full=False` looks only at the scenarios the last screen found loaded beyond WATCH_LOADING
        of a rating or violated (on a grid-scale case a few hundred of thousands): a cheap round
        between full ones, which alone can end the screening."""
        added, found = 0, []
        positions = np.arange(len(self.scenarios)) if full else np.flatnonzero(self.watched)
        if full:
            self.watched[:] = False
        log.debug("screening %d of %d scenarios", len(positions), len(self.scenarios))
        shift_only = self._shift_only[positions]
        if shift_only.any():
            found.append(self._screen_outages(v, positions[shift_only]))
            positions = positions[~shift_only]
        for part in self.model.scenario_chunks(len(self.intervals), len(positions)):
            chunk = positions[part]
            x, xs = self.dispatch(v, chunk)
            blocks, candidates = self._screen_block(x, xs, chunk)
            added += blocks
            found.append(self._worst(*candidates))
        if not found:  # a partial screen with nothing loaded
            return added
        i, j, element, _ = self._worst(*map(np.concatenate, zip(*found, strict=True)))
        order = np.lexsort((element, j, i))
        i, j, element = i[order], j[order], element[order]
        cuts = np.flatnonzero(np.diff(i) | np.diff(j)) + 1
        self._add_rows([(int(self.intervals[i[g[0]]]), int(self.scenarios[j[g[0]]]), element[g])
                        for g in np.split(np.arange(len(i)), cuts) if len(g)])
        self.present.add(i, j, element)
        return added + len(i)

    @cached_property
    def _shift_only(self) -> np.ndarray:
        """Per scenario position: its flows are the base flows shifted by one LODF column
        (`Model.shift_only`), screened by `outage_screen` in one fused pass. Not in corrective mode
        (a violation there adds a dispatch of its own) nor under a load band (the worst trajectory's)."""
        if self.model.corrective or self.model.deviation is not None:
            return np.zeros(len(self.scenarios), dtype=bool)
        return self.model.shift_only[self.scenarios]

    def _screen_outages(self, v: np.ndarray, positions: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Screen the shift-only scenarios at `positions`: base flows once, then their LODF rows a
        block at a time. Returns the new violated limits like `_screen_block`."""
        model, network = self.model, self.model.network
        x = np.vstack([v[self.base_columns(int(t))] for t in self.intervals])
        base = network.branch_flows(model.injection(x, self.intervals))
        rating = model.case.branches.emergency_mw
        found = []
        outages = model.outages[self.scenarios[positions]]
        for block, (i, j, branch, excess, loaded) in overloads_by_block(network, base, outages, rating, self.tol_mw,
                                                                        WATCH_LOADING):
            self.watched[positions[block]] = loaded
            j = positions[block][j]
            new = ~self.present.contains(i, j, branch)
            found.append((i[new], j[new], branch[new], excess[new]))
        return tuple(map(np.concatenate, zip(*found, strict=True)))  # type: ignore[return-value]

    def _worst(self, i: np.ndarray, j: np.ndarray, element: np.ndarray, excess: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The `max_rows` largest excesses of each interval position `i` (all without a cap)."""
        if self.max_rows is None or len(i) <= self.max_rows:
            return i, j, element, excess
        order = np.lexsort((-excess, i))
        rank = np.arange(len(i)) - np.searchsorted(i[order], i[order])
        keep = order[rank < self.max_rows]
        return i[keep], j[keep], element[keep], excess[keep]

    def _screen_block(self, x: np.ndarray, xs: np.ndarray, chunk: np.ndarray
                      ) -> tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Screen the scenarios at positions `chunk`: one block's arrays at a time, never all outages'.
        Adds the corrective blocks needed; returns how many, and the new violated limits as (interval
        position, scenario position, element, excess)."""
        model, scenarios = self.model, self.scenarios[chunk]
        i, j, element, excess, near = model.violations(x, self.intervals, scenarios, xs, self.tol_mw, WATCH_LOADING)
        self.watched[chunk] = near
        added = 0
        if model.corrective:
            needs = (model.reach_excess(x, xs, scenarios) > self.tol_mw).any(axis=2)
            needs[i, j] = True
            needs &= (scenarios > 0)[None]
            for a, b in zip(*np.nonzero(needs), strict=True):
                key = (int(self.intervals[a]), int(scenarios[b]))
                if key not in self.blocks:
                    self._add_block(*key)
                    added += 1
            flows = (scenarios[j] == 0) | (element < model.case.branches.n)
            i, j, element, excess = i[flows], j[flows], element[flows], excess[flows]
        new = ~self.present.contains(i, chunk[j], element)
        return added, (i[new], chunk[j[new]], element[new], excess[new])

    def add_all(self) -> int:
        """Every finite limit (and, in corrective mode, every contingency's block): no screening."""
        model, groups = self.model, []
        for i, t in enumerate(self.intervals):
            for j, s in enumerate(self.scenarios):
                finite = np.isfinite(model.rating(int(s)))
                if s > 0 and model.outages[s] >= 0:
                    finite[model.outages[s]] = False  # an outaged branch carries nothing
                units = model.participation[s] > 0 if not (model.corrective and s > 0) else np.zeros(
                    model.n_devices, dtype=bool)
                if model.corrective and s > 0:
                    self._add_block(int(t), int(s))
                elements = np.flatnonzero(np.r_[finite, units])
                groups.append((int(t), int(s), elements))
                self.present.add(np.full(len(elements), i), np.full(len(elements), j), elements)
        self._add_rows(groups)
        return len(self.present) + len(self.blocks)

    def _i(self, t: int) -> int:
        return int(np.flatnonzero(self.intervals == t)[0])

    def _j(self, s: int) -> int:
        return int(np.flatnonzero(self.scenarios == s)[0])

    def _add_block(self, t: int, s: int) -> None:
        block = self.model.corrective_block(t, s)
        own = np.asarray(self.qp.add_cols(block.lower, block.upper))
        base = self.base_columns(t)
        devices, columns = np.r_[block.movable, block.fixed], np.r_[own, base[block.fixed]]
        self.blocks[(t, s)] = (devices, columns)
        rows = self.qp.add_rows(np.ones((1, len(columns))), [block.served_mw], [block.served_mw], columns=columns)
        self.balances.append(PricedRows(t, s, np.zeros(0, dtype=int), rows, block.served_sens[None]))
        k = len(block.movable)
        step = np.hstack([-np.eye(k), np.eye(k)])
        self.qp.add_rows(step, -block.step_down, block.step_up, columns=np.r_[base[block.movable], own])

    def _add_rows(self, groups: list[tuple[int, int, np.ndarray]]) -> None:
        """The limits `elements` of each (t, s) in `groups`, in one call: HiGHS re-forms its matrix on
        every addRows, so one call per (interval, scenario) made adding rows quadratic in the rounds.
        The call's matrix is built once from the groups' nonzeros (a sparse matrix per group, then a
        stack, cost more than the screen itself on a small case)."""
        data, indices, counts, lower, upper, first = [], [], [], [], [], self.qp.n_rows
        for t, s, elements in groups:
            rows = self.model.security_rows(t, s, elements)
            a, columns = rows.a, self.base_columns(t)
            if self.model.corrective and s > 0:
                devices, columns = self.blocks[(t, s)]
                a = a[:, devices]
            row, col = np.nonzero(a)
            data.append(a[row, col])
            indices.append(np.asarray(columns)[col])
            counts.append(np.bincount(row, minlength=a.shape[0]))
            lower.append(rows.lower)
            upper.append(rows.upper)
            self.security.append(PricedRows(t, s, elements, range(first, first + a.shape[0]), rows.sens))
            first += a.shape[0]
        if counts:
            indptr = np.concatenate([[0], np.cumsum(np.concatenate(counts))])
            a = sp.csr_matrix((np.concatenate(data), np.concatenate(indices), indptr),
                              shape=(len(indptr) - 1, self.qp.n))
            a.sort_indices()  # a corrective block's own columns come before its base ones
            self.qp.add_rows(a, np.concatenate(lower), np.concatenate(upper))
