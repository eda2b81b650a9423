"""An independent LASCOPF extensive form for the tests: bus angles instead of PTDF/LODF, written
directly against HiGHS from the case's arrays, sharing no code with the solver's model.

Per interval a base dispatch and angles; per (interval, contingency) a dispatch and angles of its
own, with the outaged branch removed from its network. Preventive: a unit outage's output is picked
up by the other units in proportion to Pmax (and nothing else moves); corrective: each unit may move
from the base dispatch by its ramp rate × `corrective_minutes`.
"""

from __future__ import annotations

import highspy
import numpy as np
import scipy.sparse as sp

from data_engineering.solver.case import Case

INF = highspy.kHighsInf


class Columns:
    def __init__(self) -> None:
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.n = 0

    def add(self, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        self.lower.append(np.asarray(lower, float))
        self.upper.append(np.asarray(upper, float))
        self.n += len(lower)
        return np.arange(self.n - len(lower), self.n)


def _network_rows(case: Case, live: np.ndarray, p: np.ndarray, theta: np.ndarray, load: np.ndarray,
                  rating: np.ndarray, lost: np.ndarray, rows: list) -> None:
    """Bus balance C·p − B·θ = load and |b·(θ_f − θ_t)| ≤ rating over the `live` branches."""
    br = case.branches
    b = case.base_mva / br.x_pu
    for n in range(case.buses.n):
        coef = {int(p[g]): 1.0 for g in np.flatnonzero((case.generators.bus == n) & ~lost)}
        for k in np.flatnonzero(live & ((br.from_bus == n) | (br.to_bus == n))):
            sign = 1.0 if br.from_bus[k] == n else -1.0
            for bus, s in ((br.from_bus[k], 1.0), (br.to_bus[k], -1.0)):
                coef[int(theta[bus])] = coef.get(int(theta[bus]), 0.0) - sign * s * b[k]
        rows.append((coef, load[n], load[n]))
    for k in np.flatnonzero(live & np.isfinite(rating)):
        rows.append(({int(theta[br.from_bus[k]]): b[k], int(theta[br.to_bus[k]]): -b[k]}, -rating[k], rating[k]))


def solve_angle_form(case: Case, mode: str = "preventive", corrective_minutes: float = 10.0) -> tuple[str, float]:
    """(HiGHS status, objective $) of the full extensive form, every contingency of `case`."""
    g, br, T = case.generators, case.branches, case.intervals
    cols, rows = Columns(), []
    theta_bounds = lambda: (np.where(np.arange(case.buses.n) == case.buses.ref, 0.0, -INF),  # noqa: E731
                            np.where(np.arange(case.buses.n) == case.buses.ref, 0.0, INF))
    p = [cols.add(g.pmin_mw, g.pmax_mw) for _ in range(T)]
    for t in range(T):
        theta = cols.add(*theta_bounds())
        _network_rows(case, br.in_service, p[t], theta, case.load_mw[t], br.rate_mw, np.zeros(g.n, bool), rows)
        previous = g.p0_mw if t == 0 else None
        for k in range(g.n):
            coef = {int(p[t][k]): 1.0} if t == 0 else {int(p[t][k]): 1.0, int(p[t - 1][k]): -1.0}
            base = previous[k] if t == 0 else 0.0
            rows.append((coef, base - g.ramp_down_mw[k], base + g.ramp_up_mw[k]))
        for c in case.contingencies:
            live = br.in_service.copy()
            lost = np.zeros(g.n, bool)
            if c.generator >= 0:
                lost[c.generator] = True
            else:
                live[c.branch] = False
            ps = cols.add(np.where(lost, 0.0, g.pmin_mw), np.where(lost, 0.0, g.pmax_mw))
            _network_rows(case, live, ps, cols.add(*theta_bounds()), case.load_mw[t], br.emergency_mw, lost, rows)
            share = np.where(lost, 0.0, g.pmax_mw) / np.where(lost, 0.0, g.pmax_mw).sum()
            for k in np.flatnonzero(~lost):
                if mode == "preventive":
                    coef = {int(ps[k]): 1.0, int(p[t][k]): -1.0}
                    for j in np.flatnonzero(lost):
                        coef[int(p[t][j])] = -share[k]
                    rows.append((coef, 0.0, 0.0))
                else:
                    reach = corrective_minutes / case.interval_minutes
                    rows.append(({int(ps[k]): 1.0, int(p[t][k]): -1.0}, -g.ramp_down_mw[k] * reach,
                                 g.ramp_up_mw[k] * reach))
    return _solve(cols, rows, p, g, T)


def _solve(cols: Columns, rows: list, p: list[np.ndarray], g, T: int) -> tuple[str, float]:  # noqa: ANN001
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)  # as the solver's: HiGHS shares one scheduler per process
    cost = np.zeros(cols.n)
    hessian = np.zeros(cols.n)
    for t in range(T):
        cost[p[t]] = g.c1
        hessian[p[t]] = 2 * g.c2
    lower, upper = np.concatenate(cols.lower), np.concatenate(cols.upper)
    h.addCols(cols.n, cost, lower, upper, 0, np.array([], np.int32), np.array([], np.int32), np.array([]))
    a = sp.lil_matrix((len(rows), cols.n))
    for i, (coef, _, _) in enumerate(rows):
        for j, v in coef.items():
            a[i, j] = v
    a = a.tocsr()
    h.addRows(len(rows), np.array([r[1] for r in rows], float), np.array([r[2] for r in rows], float), a.nnz,
              a.indptr[:-1].astype(np.int32), a.indices.astype(np.int32), a.data)
    nz = np.flatnonzero(hessian)
    h.passHessian(cols.n, len(nz), highspy.HessianFormat.kTriangular,
                  np.searchsorted(nz, np.arange(cols.n)).astype(np.int32), nz.astype(np.int32), hessian[nz])
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    return status, h.getInfo().objective_function_value + T * float(g.c0.sum())
