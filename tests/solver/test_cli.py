"""`lascopf solve`: the command users run, its JSON and its plot."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from data_engineering.cli import app
from tests.solver.conftest import SECURABLE_PAPER5

runner = CliRunner()


def test_solve_writes_the_result_json_and_a_convergence_plot(tmp_path) -> None:  # noqa: ANN001
    out, plot = tmp_path / "result.json", tmp_path / "convergence.png"
    result = runner.invoke(app, ["solve", "paper5", "--contingencies", SECURABLE_PAPER5, "--method", "admm",
                                 "--out", str(out), "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "G1" in result.output and "optimal" in result.output
    data = json.loads(out.read_text())
    for key in ("status", "objective", "method", "iterations", "solve_time_s", "max_violation_pu", "dispatch", "lmp",
                "binding_contingencies"):
        assert key in data, key
    assert data["status"] == "optimal" and data["method"] == "admm"
    assert len(data["dispatch"]["G1"]) == 5 and set(data["lmp"]) == {"1", "2", "3", "4", "5"}
    assert data["binding_contingencies"] == ["outage 3-4"]
    assert data["max_violation_pu"] <= 1e-3
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_solve_reports_infeasibility_with_a_non_zero_exit(tmp_path) -> None:  # noqa: ANN001
    out = tmp_path / "result.json"
    result = runner.invoke(app, ["solve", "paper5", "--method", "centralized", "--out", str(out)])
    assert result.exit_code == 2
    data = json.loads(out.read_text())
    assert data["status"] == "infeasible"
    assert data["infeasible_contingencies"] == ["outage 1-2", "outage 1-3"]
    assert data["dispatch"] == {}


def test_solve_refuses_an_unknown_case() -> None:
    result = runner.invoke(app, ["solve", "case_that_does_not_exist"])
    assert result.exit_code != 0
    assert result.exit_code == 2 and "case_that_does_not_exist" in result.output


def test_solve_passes_the_ramp_factor_to_the_case(monkeypatch, tmp_path) -> None:  # noqa: ANN001
    from data_engineering.solver import solve as solve_module

    seen = []
    real = solve_module.solve_case

    def spy(case, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        seen.append(case)
        return real(case, *args, **kwargs)

    monkeypatch.setattr(solve_module, "solve_case", spy)
    out = tmp_path / "result.json"
    result = runner.invoke(app, ["solve", "paper5", "--contingencies", "none", "--method", "centralized",
                                 "--ramp-factor", "0.5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    solved = seen.pop()
    assert "ramps = 0.5 x the case's" in solved.notes
    from data_engineering.solver.cases import load_case

    np.testing.assert_allclose(solved.generators.ramp_up_mw, 0.5 * load_case("paper5").generators.ramp_up_mw)
