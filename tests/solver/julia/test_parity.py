"""PowerLASCOPF.jl against the Python solver, wherever a `julia` executable is on PATH (the solver image
runs these with `make julia-test`); skipped, and saying why, everywhere else."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from data_engineering.solver.julia.golden import GOLDEN, OPTIONS, golden_case
from data_engineering.solver.julia.marshal import write_inputs
from data_engineering.solver.solve import solve_case, solve_lascopf

PACKAGE = Path(__file__).resolve().parents[3] / "PowerLASCOPF.jl"
JULIA = shutil.which("julia")

pytestmark = pytest.mark.skipif(
    JULIA is None, reason="no `julia` on PATH (Julia is not installable here): PowerLASCOPF.jl's parity runs in "
                          "the solver-julia image (`make julia-test`) or wherever Julia is installed")


def julia(*args: str, timeout: float = 1800) -> None:
    subprocess.run([JULIA, f"--project={PACKAGE}", *args], check=True, timeout=timeout)


def test_the_julia_package_passes_its_own_tests():
    julia("-e", "using Pkg; Pkg.instantiate(); Pkg.test()")


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda g: g.name)
def test_the_command_line_solver_matches_python(golden, tmp_path):
    case = golden_case(golden)
    inputs = write_inputs(case, OPTIONS, tmp_path)
    options, out = tmp_path / "options.json", tmp_path / "result.json"
    options.write_text(json.dumps(inputs.options))
    julia("-e", "using Pkg; Pkg.instantiate()")
    julia(str(PACKAGE / "bin" / "solve.jl"), str(inputs.m_path), str(options), str(out))
    got = json.loads(out.read_text())
    assert got["status"] == "optimal"
    assert got["objective"] == pytest.approx(solve_lascopf(case, OPTIONS).objective, rel=1e-4)


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda g: g.name)
def test_juliacall_backend_matches_python(golden):
    pytest.importorskip("juliacall", reason="juliacall not installed: pip install juliacall (the solver image has it)")
    case = golden_case(golden)
    got = solve_case(case, OPTIONS, backend="julia")
    assert got.status == "optimal"
    assert got.objective == pytest.approx(solve_lascopf(case, OPTIONS).objective, rel=1e-4)
