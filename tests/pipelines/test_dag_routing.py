"""The solve task goes to the Julia worker's queue exactly when SOLVER_BACKEND=julia."""

from __future__ import annotations

import pytest

from data_engineering.pipelines.airflow_local import load_dag


@pytest.mark.parametrize("backend, queue", [("julia", "julia"), ("python", "default"), (None, "default")])
def test_solve_task_queue_follows_the_backend(monkeypatch, airflow_home, backend, queue):
    if backend is None:
        monkeypatch.delenv("SOLVER_BACKEND", raising=False)
    else:
        monkeypatch.setenv("SOLVER_BACKEND", backend)
    dag = load_dag("lascopf_dispatch")  # parsed again, as the dag-processor would with this environment
    assert dag.get_task("solve").queue == queue
    assert {t.queue for t in dag.tasks if t.task_id != "solve"} == {"default"}
