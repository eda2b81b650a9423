"""Bad input, data and configuration fail a task at once; what may pass later keeps its retries;
every task of every DAG goes through that rule."""

from __future__ import annotations

import pytest

from data_engineering.pipelines.airflow_local import DAGS_DIR, load_dag
from data_engineering.pipelines.failures import fail_fast


def _raising(exc: Exception):  # noqa: ANN202
    @fail_fast
    def step(x: int) -> int:
        raise exc

    return step


@pytest.mark.parametrize("exc", [ValueError("the forecast needs at least 302 intervals of history, got 0"),
                                 KeyError("data_interval_end"), TypeError("bad conf")])
def test_permanent_errors_fail_without_retry_and_keep_the_reason(airflow_home, exc):  # noqa: ANN001
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(AirflowFailException) as raised:
        _raising(exc)(1)
    assert type(exc).__name__ in str(raised.value) and str(exc).strip("'") in str(raised.value)
    assert raised.value.__cause__ is exc


@pytest.mark.parametrize("exc", [ConnectionRefusedError("database down"), TimeoutError("Kafka"), OSError("disk")])
def test_errors_that_may_pass_later_keep_their_retries(airflow_home, exc):  # noqa: ANN001
    with pytest.raises(type(exc)):
        _raising(exc)(1)


def test_a_wrapped_step_keeps_its_signature_and_result() -> None:
    @fail_fast
    def step(key: str, n: int = 2) -> str:
        """doc"""
        return key * n

    assert step("ab") == "abab" and step.__name__ == "step" and step.__doc__ == "doc"


@pytest.mark.parametrize("dag_id", sorted(p.stem for p in DAGS_DIR.glob("*.py")))
def test_every_task_fails_fast(airflow_home, dag_id):  # noqa: ANN001
    dag = load_dag(dag_id)
    assert dag.tasks
    assert [t.task_id for t in dag.tasks if not getattr(t.python_callable, "fails_fast", False)] == []
