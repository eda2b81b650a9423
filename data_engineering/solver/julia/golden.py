"""The golden fixtures of PowerLASCOPF.jl's `Pkg.test()`: cases exported as Julia receives them, the
options, and the Python solver's answer it must reproduce.

`python -m data_engineering.solver.julia.golden` rewrites them; a Python test checks the committed
files still equal what this solver produces, so the Julia tests never compare against a stale answer.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from data_engineering.solver.case import Case
from data_engineering.solver.cases import load_case
from data_engineering.solver.cases.matpower import DEFAULT_RAMP_FRACTION
from data_engineering.solver.contingencies import select
from data_engineering.solver.julia.marshal import write_inputs
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.solve import solve_lascopf

GOLDEN_DIR = Path(__file__).resolve().parents[3] / "PowerLASCOPF.jl" / "test" / "fixtures"
OPTIONS = SolveOptions(method="admm")


@dataclass(frozen=True)
class GoldenCase:
    name: str  # file stem under GOLDEN_DIR
    spec: str  # `load_case` name
    intervals: int
    contingencies: str
    emergency_factor: float | None = None
    ramp_fraction: float = DEFAULT_RAMP_FRACTION


# A converged-at-once case with binding post-contingency limits (the paper's system), and two where the
# ramps couple the intervals so ADMM iterates (linear costs; quadratic and linear mixed).
GOLDEN = (
    GoldenCase("paper5", "paper5", 5, "2-3,2-4,2-5,3-4,4-5"),
    GoldenCase("case5_pjm_ramps", "pglib_opf_case5_pjm", 6, "all", 1.3, 0.3),
    GoldenCase("case24_rts_ramps", "pglib_opf_case24_ieee_rts", 6, "all", 1.3, 0.2),
)


def golden_case(golden: GoldenCase) -> Case:
    case = load_case(golden.spec, golden.intervals, ramp_fraction=golden.ramp_fraction)
    if golden.emergency_factor is not None:
        case = case.with_emergency_factor(golden.emergency_factor)
    return select(case, golden.contingencies)[0]


def expected_result(case: Case) -> dict:
    """The Python answer, without what differs run to run (time) or between solvers (the residual path)."""
    result = solve_lascopf(case, OPTIONS)
    if not result.ok:
        raise RuntimeError(f"golden case {case.name} did not solve: {result.message}")
    return {**result.to_json(case), "solve_time_s": 0.0, "history": []}


def write_golden(directory: Path = GOLDEN_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for golden in GOLDEN:
        case = golden_case(golden)
        inputs = write_inputs(case, OPTIONS, directory, golden.name)
        options = directory / f"{golden.name}.options.json"
        options.write_text(json.dumps(inputs.options, indent=1) + "\n")
        expected = directory / f"{golden.name}.expected.json"
        expected.write_text(json.dumps(expected_result(case), indent=1) + "\n")
        written += [inputs.m_path, inputs.sidecar_path, options, expected]
    return written


if __name__ == "__main__":
    for path in write_golden(Path(sys.argv[1]) if len(sys.argv) > 1 else GOLDEN_DIR):
        print(path)
