"""The ADMM / APP decomposition against the centralized reference, serial, in processes and on Dask."""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np
import pytest

from data_engineering.solver.case import Case
from data_engineering.solver.cases import load_case
from data_engineering.solver.contingencies import select
from data_engineering.solver.options import SolveOptions
from data_engineering.solver.result import SolveResult
from data_engineering.solver.solve import solve_lascopf


def securable(case: Case) -> Case:
    """All N-1 outages but those the centralized diagnosis finds infeasible on their own."""
    case = select(case, "all")[0]
    while True:
        result = solve_lascopf(case, SolveOptions(method="centralized"))
        if result.ok:
            return case
        assert result.infeasible_contingencies, result.message
        dropped = set(result.infeasible_contingencies)
        case = case.with_contingencies([c for c in case.contingencies if c.label not in dropped])


def assert_matches(admm: SolveResult, reference: SolveResult) -> None:
    assert admm.ok, admm.message
    assert abs(admm.objective - reference.objective) <= 1e-3 * abs(reference.objective)  # within 0.1 %
    assert admm.max_violation_pu <= 1e-3  # every constraint, every contingency, from the dispatch alone
    assert admm.iterations >= 1 and admm.history


CASES = [("pglib_opf_case14_ieee", 1.0), ("pglib_opf_case30_ieee", 1.2), ("pglib_opf_case57_ieee", 1.2),
         ("pglib_opf_case118_ieee", 1.2)]


@functools.cache
def pglib_reference(name: str, emergency: float) -> tuple[Case, SolveResult]:
    case = securable(load_case(name, 5).with_emergency_factor(emergency))
    return case, solve_lascopf(case, SolveOptions(method="centralized"))


@pytest.mark.parametrize("name,emergency", CASES)
def test_admm_interval_decomposition_matches_centralized_on_pglib(name, emergency) -> None:  # noqa: ANN001
    case, reference = pglib_reference(name, emergency)
    assert len(case.contingencies) > case.branches.n // 2
    assert_matches(solve_lascopf(case, SolveOptions(method="admm")), reference)


@pytest.mark.parametrize("name,emergency", CASES[:2])
def test_admm_corrective_copies_match_centralized_on_pglib(name, emergency) -> None:  # noqa: ANN001
    """Corrective mode gives each violated (interval, contingency) a copy of its own, holding that
    contingency's dispatch: the consensus over those copies reaches the centralized optimum."""
    case, _ = pglib_reference(name, emergency)
    corrective = SolveOptions(mode="corrective")
    reference = solve_lascopf(case, corrective)
    result = solve_lascopf(case, SolveOptions(method="admm", mode="corrective"))
    assert_matches(result, reference)
    if reference.binding_contingencies:
        assert max(h.scenarios for h in result.history) > 0  # contingency copies were created


def test_admm_on_the_paper_system_matches_dispatch_and_prices(paper5_secure) -> None:  # noqa: ANN001
    reference = solve_lascopf(paper5_secure, SolveOptions(method="centralized"))
    result = solve_lascopf(paper5_secure, SolveOptions(method="admm"))
    assert_matches(result, reference)
    np.testing.assert_allclose(result.dispatch_mw, reference.dispatch_mw, atol=0.05)
    np.testing.assert_allclose(result.lmp, reference.lmp, atol=0.05)
    assert result.binding_contingencies == reference.binding_contingencies == ["outage 3-4"]
    residuals = [h.primal_residual_mw for h in result.history]
    assert residuals[-1] <= min(residuals[0], 1e-2)


@pytest.mark.parametrize("mode", ["preventive", "corrective"])
def test_subproblems_on_the_sparse_qp_reach_the_same_answer(monkeypatch, mode: str) -> None:  # noqa: ANN001
    """Grid-scale subproblems are HiGHS QPs (`DENSE_DEVICES`): the proximal term and target change
    in place every iteration, rows arrive a capped batch at a time, and the answer is the centralized one."""
    from data_engineering.solver.admm import subproblem

    case, reference = pglib_reference("pglib_opf_case30_ieee", 1.2)
    monkeypatch.setattr(subproblem, "DENSE_DEVICES", 0)
    options = SolveOptions(method="admm", mode=mode, max_rows_per_round=3)  # type: ignore[arg-type]
    central = reference if mode == "preventive" else solve_lascopf(case, SolveOptions(mode=mode))  # type: ignore[arg-type]
    assert_matches(solve_lascopf(case, options), central)


@pytest.mark.parametrize("mode", ["preventive", "corrective"])
def test_admm_in_worker_processes_equals_serial(mode: str) -> None:
    """Four interval subproblems over two workers; in corrective mode also contingency copies added
    to the workers while the iteration runs."""
    case = securable(load_case("pglib_opf_case30_ieee", 4).with_emergency_factor(1.2))
    serial = solve_lascopf(case, SolveOptions(method="admm", mode=mode))  # type: ignore[arg-type]
    parallel = solve_lascopf(case, SolveOptions(method="admm", mode=mode, workers=2))  # type: ignore[arg-type]
    assert parallel.ok and parallel.iterations == serial.iterations
    np.testing.assert_allclose(parallel.dispatch_mw, serial.dispatch_mw, atol=1e-6)


def test_a_killed_worker_process_ends_the_solve_by_name_and_leaves_no_worker_behind() -> None:
    """`kill -9` of a worker mid-solve: the solve raises `WorkerLost` (the run may be retried), not a
    broken pipe from the clean-up, and the other worker is stopped too."""
    import multiprocessing as mp
    import os
    import signal

    from data_engineering.solver.admm.executor import WorkerLost

    case = select(load_case("pglib_opf_case118_ieee", 6).with_ramp_factor(0.2), "none")[0]

    def kill(record) -> None:  # noqa: ANN001
        if record.iteration == 3:
            os.kill(mp.active_children()[0].pid, signal.SIGKILL)

    with pytest.raises(WorkerLost, match="exit code -9"):
        solve_lascopf(case, SolveOptions(method="admm", workers=2), progress=kill)
    assert not mp.active_children()


def test_a_hung_worker_process_ends_the_solve_by_name_instead_of_hanging_it() -> None:
    """A worker that stops mid-solve (SIGSTOP: alive, its pipe open, no CPU time used, as a deadlocked
    one) is killed after `worker_stall_s` and the solve raises `WorkerLost`, leaving no worker behind."""
    import multiprocessing as mp
    import os
    import signal

    from data_engineering.solver.admm.executor import WorkerLost

    case = select(load_case("pglib_opf_case118_ieee", 6).with_ramp_factor(0.2), "none")[0]

    def stop(record) -> None:  # noqa: ANN001
        if record.iteration == 3:
            os.kill(mp.active_children()[0].pid, signal.SIGSTOP)

    with pytest.raises(WorkerLost, match="is hung: it used no CPU time for 1 s"):
        solve_lascopf(case, SolveOptions(method="admm", workers=2, worker_stall_s=1.0), progress=stop)
    assert not mp.active_children()


def test_admm_on_a_dask_cluster_equals_serial(paper5_secure) -> None:  # noqa: ANN001
    from distributed import Client, LocalCluster

    serial = solve_lascopf(paper5_secure, SolveOptions(method="admm"))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        result = solve_lascopf(paper5_secure, SolveOptions(method="admm", dask_address=client))
        assert len(client.scheduler_info()["workers"]) == 2
    assert result.ok and result.iterations == serial.iterations
    np.testing.assert_allclose(result.dispatch_mw, serial.dispatch_mw, atol=1e-6)


def test_unreachable_ramps_are_reported_infeasible_by_both_methods(paper5_secure) -> None:  # noqa: ANN001
    from dataclasses import replace

    g = paper5_secure.generators
    gens = replace(g, pmin_mw=g.pmin_mw + [0.0, 100.0], p0_mw=np.array([165.0, 0.0]))  # G2 cannot reach Pmin
    stuck = replace(paper5_secure, generators=gens)
    for method in ("centralized", "admm"):
        result = solve_lascopf(stuck, SolveOptions(method=method))
        assert result.status == "infeasible", method
        assert "infeasible without contingencies" in result.message


def scaled_ramps(case: Case, factor: float) -> Case:
    from dataclasses import replace

    g = case.generators
    return replace(case, generators=replace(g, ramp_up_mw=g.ramp_up_mw * factor, ramp_down_mw=g.ramp_down_mw * factor))


def test_ramps_from_p0_are_solved_inside_the_single_interval_subproblem() -> None:
    """With one interval the ramps from P0 are local bounds: the subproblem is the whole problem."""
    case = scaled_ramps(select(load_case("pglib_opf_case118_ieee", 1), "none")[0], 0.2)
    reference = solve_lascopf(case, SolveOptions(method="centralized"))
    g = case.generators
    step = reference.dispatch_mw[0] - g.p0_mw
    assert (np.isclose(step, g.ramp_up_mw) | np.isclose(step, -g.ramp_down_mw)).sum() >= 10  # ramps bind
    result = solve_lascopf(case, SolveOptions(method="admm"))
    assert_matches(result, reference)
    assert result.iterations <= 2


def test_admm_converges_where_ramps_bind_over_the_horizon() -> None:
    case = scaled_ramps(select(load_case("pglib_opf_case89_pegase", 24), "none")[0], 0.2)
    reference = solve_lascopf(case, SolveOptions(method="centralized"))
    steps = np.abs(np.diff(reference.dispatch_mw, axis=0))
    assert (np.isclose(steps, case.generators.ramp_up_mw, atol=1e-4) & (steps > 1e-3)).sum() >= 20  # between intervals
    result = solve_lascopf(case, SolveOptions(method="admm"))
    assert_matches(result, reference)
    assert result.iterations <= 300


def test_the_penalty_keeps_adapting_late_but_ever_more_rarely() -> None:
    from data_engineering.solver.admm.coordinator import ResidualBalancing

    rule = ResidualBalancing(SolveOptions())
    rho, changes = 1.0, []
    for k in range(1, 20_001):
        primal, dual = (1.0, 0.0) if rho <= 1.0 else (0.0, 1.0)  # unbalanced at every check
        new = rule.update(k, primal, dual, rho)
        if new != rho:
            changes.append(k)
        rho = new
    assert changes[-1] > 10_000  # never frozen short of convergence
    gaps = np.diff(changes)
    assert gaps[0] == 5 and gaps[-1] > 100  # but the interval between changes grows


@functools.cache
def ramp_bound_reference() -> tuple[Case, SolveResult]:
    """118 buses, six intervals, ramps ×0.2: ramps bind between intervals (75 binding steps)."""
    case = select(load_case("pglib_opf_case118_ieee", 6), "none")[0].with_ramp_factor(0.2)
    return case, solve_lascopf(case, SolveOptions(method="centralized"))


def test_an_interval_block_over_the_whole_horizon_is_the_whole_problem() -> None:
    """With every interval in one subproblem (its ramps inside) the warm start is the optimum."""
    case, reference = ramp_bound_reference()
    steps = np.abs(np.diff(reference.dispatch_mw, axis=0))
    assert (np.isclose(steps, case.generators.ramp_up_mw, atol=1e-4) & (steps > 1e-3)).sum() >= 20
    result = solve_lascopf(case, SolveOptions(method="admm", interval_block=case.intervals))
    assert_matches(result, reference)
    assert result.iterations == 1
    np.testing.assert_allclose(result.dispatch_mw, reference.dispatch_mw, atol=1e-6)
    np.testing.assert_allclose(result.lmp, reference.lmp, atol=1e-6)


@pytest.mark.parametrize("block", [2, 4])
def test_interval_blocks_match_centralized_where_ramps_bind(block: int) -> None:
    """Blocks of 2 and of 4 (then 2: the last block is shorter) intervals keep the ramps between their
    own intervals; the consensus holds those across blocks. Dispatch cost and every interval's LMPs
    are the centralized ones."""
    case, reference = ramp_bound_reference()
    result = solve_lascopf(case, SolveOptions(method="admm", interval_block=block))
    assert_matches(result, reference)
    np.testing.assert_allclose(result.lmp, reference.lmp, atol=0.05)


def test_interval_blocks_in_worker_processes_equal_serial() -> None:
    case, _ = ramp_bound_reference()
    options = SolveOptions(method="admm", interval_block=3)
    serial = solve_lascopf(case, options)
    parallel = solve_lascopf(case, replace(options, workers=2))  # one block per worker
    assert parallel.ok and parallel.iterations == serial.iterations
    np.testing.assert_allclose(parallel.dispatch_mw, serial.dispatch_mw, atol=1e-6)


def test_interval_blocks_on_the_paper_system_with_contingencies(paper5_secure) -> None:  # noqa: ANN001
    """Screened security rows of every interval in the block, priced per interval."""
    reference = solve_lascopf(paper5_secure, SolveOptions(method="centralized"))
    result = solve_lascopf(paper5_secure, SolveOptions(method="admm", interval_block=2))
    assert_matches(result, reference)
    np.testing.assert_allclose(result.lmp, reference.lmp, atol=0.05)
    assert result.binding_contingencies == reference.binding_contingencies


def test_interval_blocks_are_refused_in_corrective_mode(paper5_secure) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="interval_block"):
        solve_lascopf(paper5_secure, SolveOptions(method="admm", mode="corrective", interval_block=2))
