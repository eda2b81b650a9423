"""The 5-bus system of Chakrabarti & Baldick (IJEPES 116, 2020, 105533), as DESIGN.md §5 states it.

Two generators, seven 100 MW lines, five intervals of load; the paper marks every line as a
contingency. Reactances are in per unit on 100 MVA; lines have no resistance.
"""

from __future__ import annotations

import numpy as np

from data_engineering.solver.case import Branches, Buses, Case, Generators

LINES = [(1, 2, 0.06), (1, 3, 0.24), (2, 3, 0.18), (2, 4, 0.18), (2, 5, 0.12), (3, 4, 0.03), (4, 5, 0.24)]
LOADS_MW = np.array([  # interval × bus 1..5
    [0, 20, 45, 40, 60],
    [0, 30, 40, 40, 65],
    [0, 20, 43, 45, 65],
    [0, 20, 43, 45, 65],
    [0, 20, 43, 45, 65],
], dtype=float)
RATING_MW = 100.0


def paper5(intervals: int = 5) -> Case:
    if not 1 <= intervals <= len(LOADS_MW):
        raise ValueError(f"the paper's 5-bus system has {len(LOADS_MW)} intervals of load, not {intervals}")
    n_lines = len(LINES)
    branches = Branches(
        from_bus=np.array([f - 1 for f, _, _ in LINES]), to_bus=np.array([t - 1 for _, t, _ in LINES]),
        x_pu=np.array([x for _, _, x in LINES]), rate_mw=np.full(n_lines, RATING_MW),
        emergency_mw=np.full(n_lines, RATING_MW), in_service=np.ones(n_lines, dtype=bool),
        names=tuple(f"{f}-{t}" for f, t, _ in LINES),
    )
    generators = Generators(
        bus=np.array([0, 1]), c2=np.array([0.0430293, 0.25]), c1=np.array([20.0, 20.0]), c0=np.zeros(2),
        pmin_mw=np.zeros(2), pmax_mw=np.array([332.4, 140.0]), ramp_up_mw=np.array([20.0, 15.0]),
        ramp_down_mw=np.array([20.0, 15.0]), p0_mw=np.array([140.765, 24.2275]), names=("G1", "G2"),
    )
    case = Case(name="paper5", base_mva=100.0, buses=Buses(ids=np.arange(1, 6), ref=0), branches=branches,
                generators=generators, load_mw=LOADS_MW[:intervals].copy())
    return case.with_contingencies([case.contingency(k) for k in range(n_lines)])
