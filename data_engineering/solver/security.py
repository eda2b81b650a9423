"""Security limits screened into a QP: the rows a (interval, scenario) needs, added when violated.

Shared by the centralized extensive form (all intervals and scenarios) and the ADMM subproblems (one
interval, some scenarios), so both hold exactly the same rows. A preventive limit is a row over the
base dispatch of its interval; in corrective mode a contingency's limits are rows over a dispatch of
its own (`Model.corrective_block`: new columns, their balance and their reach from the base), added
once the preventive response breaks a limit or a corrective ramp — otherwise the response itself is
that scenario's corrective dispatch, and is checked as one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from data_engineering.solver.duals import PricedRows
from data_engineering.solver.model import Model
from data_engineering.solver.qp import DenseQP, DiagonalQP


class ScreenedLimits:
    def __init__(self, model: Model, qp: DiagonalQP | DenseQP, intervals: np.ndarray, scenarios: np.ndarray,
                 base_columns: Callable[[int], np.ndarray], tol_mw: float) -> None:
        self.model, self.qp, self.tol_mw = model, qp, tol_mw
        self.intervals, self.scenarios = np.asarray(intervals), np.asarray(scenarios)
        self.base_columns = base_columns
        self.present = np.zeros((len(self.intervals), len(self.scenarios), model.n_elements), dtype=bool)
        # (t, s) → the devices of its corrective dispatch and the columns holding them (own or base)
        self.blocks: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        self.security: list[PricedRows] = []
        self.balances: list[PricedRows] = []  # corrective blocks' balance rows

    @property
    def priced(self) -> list[PricedRows]:
        return [*self.security, *self.balances]

    def dispatch(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Base dispatch (T', D) and scenario dispatches (T', S', D) of the QP solution `v`."""
        x = np.vstack([v[self.base_columns(int(t))] for t in self.intervals])
        xs = self.model.response(x, self.scenarios, self.intervals)
        for (t, s), (devices, columns) in self.blocks.items():
            xs[self._i(t), self._j(s)] = 0.0
            xs[self._i(t), self._j(s), devices] = v[columns]
        return x, xs

    def screen(self, v: np.ndarray) -> int:
        """Add the limits (and corrective blocks) the solution `v` violates; how many were added."""
        x, xs = self.dispatch(v)
        added = 0
        for chunk in self.model.scenario_chunks(len(self.intervals), len(self.scenarios)):
            added += self._screen_block(x, xs[:, chunk], chunk)
        return added

    def _screen_block(self, x: np.ndarray, xs: np.ndarray, chunk: np.ndarray) -> int:
        """Screen the scenarios at positions `chunk`: one block's arrays at a time, never all outages'."""
        model, scenarios = self.model, self.scenarios[chunk]
        wanted = model.overloads(x, self.intervals, scenarios, xs) > self.tol_mw
        added = 0
        if model.corrective:
            reach = model.reach_excess(x, xs, scenarios)
            needs = (wanted.any(axis=2) | (reach > self.tol_mw).any(axis=2)) & (scenarios > 0)[None]
            for i, j in zip(*np.nonzero(needs), strict=True):
                key = (int(self.intervals[i]), int(scenarios[j]))
                if key not in self.blocks:
                    self._add_block(*key)
                    added += 1
            wanted[:, scenarios > 0, model.case.branches.n:] = False
        new = wanted & ~self.present[:, chunk]
        for i, j in zip(*np.nonzero(new.any(axis=2)), strict=True):
            self._add_rows(int(self.intervals[i]), int(scenarios[j]), np.flatnonzero(new[i, j]))
        self.present[:, chunk] |= new
        return added + int(new.sum())

    def add_all(self) -> int:
        """Every finite limit (and, in corrective mode, every contingency's block): no screening."""
        model = self.model
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
                self._add_rows(int(t), int(s), elements)
                self.present[i, j, elements] = True
        return int(self.present.sum()) + len(self.blocks)

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

    def _add_rows(self, t: int, s: int, elements: np.ndarray) -> None:
        rows = self.model.security_rows(t, s, elements)
        a, columns = rows.a, self.base_columns(t)
        if self.model.corrective and s > 0:
            devices, columns = self.blocks[(t, s)]
            a = a[:, devices]
        added = self.qp.add_rows(a, rows.lower, rows.upper, columns=columns)
        self.security.append(PricedRows(t, s, elements, added, rows.sens))
