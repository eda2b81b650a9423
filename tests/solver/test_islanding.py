"""An outage that cuts buses off is handled the same on every path: refused with a message naming
the buses, or (islanding="shed") solved with their load unserved, per bus — never modelled as if the
network held together. A QP's numerical failure is a solver failure, not infeasibility."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from typer.testing import CliRunner

from data_engineering.cli import app
from data_engineering.solver.cases import load_case
from data_engineering.solver.contingencies import IslandingRefused, select
from data_engineering.solver.model import build_model
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.qp import DenseQP, DiagonalQP, QPSolution
from data_engineering.solver.solve import solve_lascopf

RADIAL = "25-26"  # pglib case30: bus 26 (3.5 MW) hangs off bus 25
SHED = SolveOptions(islanding="shed")


@pytest.fixture
def case30():  # noqa: ANN201
    return load_case("pglib_opf_case30_ieee", 3).with_emergency_factor(1.3)


def test_all_and_counts_leave_islanding_outages_out_and_name_them(case30) -> None:  # noqa: ANN001
    chosen, n1 = select(case30, "all")
    assert "outage 25-26" in [c.label for c in n1.islanding]
    assert not set(n1.islanding) & set(chosen.contingencies)
    assert not set(n1.islanding) & set(select(case30, "40")[0].contingencies)
    kept = select(case30, "all", islanding="shed")[0].contingencies
    assert set(n1.islanding) <= set(kept)


@pytest.mark.parametrize("path", ["list", "case list", "model"])
def test_a_named_islanding_outage_is_refused_whatever_the_path(case30, path) -> None:  # noqa: ANN001
    radial = case30.contingency(case30.branches.names.index(RADIAL))
    with pytest.raises(IslandingRefused, match=r"outage 25-26 \(buses 26\).*refused"):
        if path == "list":
            select(case30, RADIAL)
        elif path == "case list":
            select(case30.with_contingencies([radial]), "case")
        else:  # a case built elsewhere (a stored sidecar, a caller's list) reaches the model directly
            solve_lascopf(case30.with_contingencies([radial]), SolveOptions(method="admm"))


def test_an_islanding_outage_under_shed_leaves_its_buses_load_unserved(case30) -> None:  # noqa: ANN001
    case = select(case30, f"all,{RADIAL}", islanding="shed")[0]
    bus26 = case.bus_index(26)
    for method in ("centralized", "admm"):
        result = solve_lascopf(case, replace(SHED, method=method))
        assert result.ok, (method, result.message)
        unserved = result.unserved_mw["outage 25-26"]
        np.testing.assert_allclose(unserved[:, bus26], case.load_mw[:, bus26])
        assert np.count_nonzero(unserved.sum(axis=0)) == 1
        # after the outage, the rest of the system runs without bus 26's load: less output, 25-26 dead
        pickup = result.scenario_dispatch_mw["outage 25-26"]
        np.testing.assert_allclose(pickup.sum(axis=1), case.load_mw.sum(axis=1) - case.load_mw[:, bus26], atol=1e-6)
    model = build_model(case, SHED)
    s = 1 + [c.label for c in case.contingencies].index("outage 25-26")
    xs = model.response(result.dispatch_mw, np.array([0, s]))
    flows = model.scenario_flows(result.dispatch_mw, xs, scenarios=np.array([0, s]))
    assert np.allclose(flows[:, 1, case.branches.names.index(RADIAL)], 0.0)
    assert not np.allclose(flows[:, 1], flows[:, 0])  # not modelled as base flows


def test_a_topology_that_cuts_buses_off_is_refused_or_shed(case30) -> None:  # noqa: ANN001
    live = case30.branches.in_service.copy()
    live[case30.branches.names.index(RADIAL)] = False
    split = select(replace(case30, branches=replace(case30.branches, in_service=live)), "none")[0]
    with pytest.raises(IslandingRefused, match="buses 26 are cut off from the reference bus"):
        solve_lascopf(split)
    result = solve_lascopf(split, SHED)
    assert result.ok
    bus26 = split.bus_index(26)
    np.testing.assert_allclose(result.unserved_mw["base"][:, bus26], split.load_mw[:, bus26])
    np.testing.assert_allclose(result.dispatch_mw.sum(axis=1), split.load_mw.sum(axis=1) - split.load_mw[:, bus26],
                               atol=1e-6)


def test_the_cli_refuses_or_sheds_an_islanding_outage(tmp_path) -> None:  # noqa: ANN001
    runner = CliRunner()
    refused = runner.invoke(app, ["solve", "pglib_opf_case30_ieee", "--intervals", "2", "--contingencies", RADIAL])
    assert refused.exit_code == 2 and "refused" in refused.output
    out = tmp_path / "r.json"
    shed = runner.invoke(app, ["solve", "pglib_opf_case30_ieee", "--intervals", "2", "--contingencies", RADIAL,
                               "--islanding", "shed", "--method", "centralized", "--out", str(out)])
    assert shed.exit_code == 0, shed.output
    assert '"outage 25-26": {\n   "26"' in out.read_text()


def test_a_subproblem_that_fails_numerically_is_a_solver_failure(monkeypatch, paper5_secure) -> None:  # noqa: ANN001
    failed = lambda self: QPSolution("daqp exit flag -6", np.full(self.n, np.nan), np.zeros(0), np.nan)  # noqa: E731
    monkeypatch.setattr(DenseQP, "solve", failed)
    result = solve_lascopf(paper5_secure, SolveOptions(method="admm"))
    assert result.status == "error" and "solver failure" in result.message and "daqp exit flag -6" in result.message
    assert "infeasible" not in result.message


def test_an_extensive_form_that_fails_numerically_is_a_solver_failure(monkeypatch, paper5_secure) -> None:  # noqa: ANN001
    failed = lambda self: QPSolution("clarabel NumericalError", np.full(self.n, np.nan), np.zeros(0), np.nan)  # noqa: E731
    monkeypatch.setattr(DiagonalQP, "solve", failed)
    result = solve_lascopf(paper5_secure, SolveOptions(method="centralized"))
    assert result.status == "error" and "solver failure" in result.message
    admm = solve_lascopf(paper5_secure.with_loads(paper5_secure.load_mw * 3), SolveOptions(method="admm"))
    assert admm.status == "error" and "solver failure: the centralized reference" in admm.message
