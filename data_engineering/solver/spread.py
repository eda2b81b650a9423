"""The cost of securing a dispatch for the load forecast's spread, the figure the pipeline and bench
report: the same case solved for its P50 load alone, then secured for its load band as well
(`SolveOptions.secure_spread`, the affine envelope of `model.py`). A band no secure dispatch can
follow is an answer (status `infeasible`), not an error.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from data_engineering.solver.case import Case
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.result import SolveResult
from data_engineering.solver.solve import solve_case


@dataclass(frozen=True)
class SpreadCost:
    p50_status: str
    secured_status: str
    p50_objective: float  # $ over the horizon; nan unless optimal
    secured_objective: float

    @property
    def difference(self) -> float:
        """$ the security for the spread costs (nan unless both solves are optimal)."""
        return self.secured_objective - self.p50_objective

    @property
    def percent(self) -> float:
        return 100.0 * self.difference / abs(self.p50_objective)


def solve_secured(case: Case, options: SolveOptions | None = None, backend: str = "python"
                  ) -> tuple[SolveResult, SolveResult]:
    """`case` secured for its `load_band_mw`, and for its P50 load alone (`options` otherwise as
    given): the dispatch and its reference."""
    if case.load_band_mw is None:
        raise ValueError(f"case {case.name} has no load band (load_band_mw) to secure the dispatch for")
    options = options or SolveOptions()
    return (solve_case(case, replace(options, secure_spread=True), backend),
            solve_case(case, replace(options, secure_spread=False), backend))


def spread_cost(case: Case, options: SolveOptions | None = None) -> SpreadCost:
    """Solve `case` P50-only and secured for its `load_band_mw` (`options` otherwise as given)."""
    secured, p50 = solve_secured(case, options)
    return SpreadCost(p50.status, secured.status, _objective(p50), _objective(secured))


def _objective(result: SolveResult) -> float:
    """An objective only an accepted answer has (a rejected one may carry its dispatch's cost)."""
    return result.objective if result.status == "optimal" else float("nan")
