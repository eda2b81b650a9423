"""The solve task goes to the Julia worker's queue exactly when SOLVER_BACKEND=julia."""

from __future__ import annotations

import importlib.util

import pytest

from data_engineering.pipelines.airflow_local import DAGS_DIR


def _dispatch_dag():
    spec = importlib.util.spec_from_file_location("lascopf_dispatch_routing", DAGS_DIR / "lascopf_dispatch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lascopf_dispatch_dag


@pytest.mark.parametrize("backend, queue", [("julia", "julia"), ("python", "default"), (None, "default")])
def test_solve_task_queue_follows_the_backend(monkeypatch, backend, queue):
    if backend is None:
        monkeypatch.delenv("SOLVER_BACKEND", raising=False)
    else:
        monkeypatch.setenv("SOLVER_BACKEND", backend)
    dag = _dispatch_dag()
    assert dag.get_task("solve").queue == queue
    assert {t.queue for t in dag.tasks if t.task_id != "solve"} == {"default"}
