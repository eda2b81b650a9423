"""What a solve may do: method, security mode, islanding policy, shedding, load spread, tolerances.

ADMM decomposes by interval: a copy per interval (or per `interval_block` consecutive intervals)
enforces all of its intervals' outages (the per-contingency "scenario" decomposition was removed, see
README "Why there is no scenario decomposition"); corrective mode still gives each (interval, outage) a
copy holding its own dispatch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SolveOptions:
    method: Literal["centralized", "admm"] = "centralized"
    # preventive: one dispatch per interval survives every outage (a lost unit's output picked up by the
    # others in proportion to their Pmax); corrective: each (interval, outage) has its own dispatch within
    # `corrective_minutes` of each unit's ramp rate of the base dispatch.
    mode: Literal["preventive", "corrective"] = "preventive"
    corrective_minutes: float = 10.0
    # an outage (or the base topology) that cuts buses off the reference bus: refused, or solved with
    # the cut-off buses' load counted as unserved and their units lost
    islanding: Literal["refuse", "shed"] = "refuse"
    load_shedding: bool = False  # allow shedding at `voll_per_mwh` instead of declaring infeasibility
    voll_per_mwh: float = 10_000.0
    # also secure the case's `load_band_mw` trajectories (P10, P90) and every mix of them with the P50
    # load, the units following the load in fixed shares (`model.py`); preventive mode only
    secure_spread: bool = False
    feasibility_tol_mw: float = 1e-3  # flow screening: a limit counts as violated beyond this
    max_screening_rounds: int = 50
    # screening (centralized form and ADMM subproblems): at most this many violated limits per interval
    # and round, the worst first (None: all); a grid-scale answer violates thousands that a few relieve together
    max_rows_per_round: int | None = 300
    # ADMM / APP
    rho: float | None = None  # initial penalty ($/MW²h); None = from the cost scale
    max_iterations: int = 3000
    primal_tol_mw: float = 5e-3  # stop when every copy is within this of the consensus dispatch ...
    dual_tol: float = 1e-2  # ... and ρ × the last move of the consensus is below this ($/MWh)
    verify_tol_pu: float = 5e-4  # ... and the full constraint check passes within this
    residual_balancing: bool = True  # adapt rho to keep primal and dual residuals within `balance_ratio`
    balance_ratio: float = 5.0
    # consecutive intervals per ADMM subproblem, the ramps between them inside it: only the ramps across
    # blocks are left to the consensus (1: a subproblem per interval; preventive mode only beyond 1)
    interval_block: int = 1
    workers: int = 1  # subproblem worker processes (1 = in this process)
    # a worker that, with a call outstanding, uses no CPU time for this long is hung (a deadlock, a
    # stopped process): it is killed and the solve raises WorkerLost instead of waiting forever
    worker_stall_s: float = 120.0
    dask_address: str | None = None  # a Dask scheduler to run the subproblems on
    screen_every: int = 10  # iterations between contingency re-screens in ADMM
