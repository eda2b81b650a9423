"""What a DAG task needs from Airflow: the run it belongs to and the platform's servers. Kept here
so DAG files stay wiring."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from data_engineering.pipelines.dispatch import DispatchRun
from data_engineering.runtime import Platform, connect_platform
from data_engineering.settings import Settings
from data_engineering.validation.gate import QualityGateFailed

T = TypeVar("T")


def platform() -> Platform:
    return connect_platform(Settings())


def run_key(context: dict[str, Any]) -> str:
    return f"{context['dag'].dag_id}/{context['run_id']}"


def dispatch_run(context: dict[str, Any]) -> DispatchRun:
    """The window ends at the run's data interval end (the logical date for a manual run), or at
    `window_end` in the run's conf (what the re-optimisation trigger sends)."""
    conf = (context.get("dag_run") and context["dag_run"].conf) or {}
    end = conf.get("window_end")
    window_end = datetime.fromisoformat(end) if end else context["data_interval_end"]
    return DispatchRun(run_key(context), window_end)


def fail_without_retry_on_bad_data(step: Callable[[], T]) -> T:
    """A failed quality gate fails the task for good: bad data does not get better on retry, and
    the reason (with the Data Docs key) is the task's error in the Airflow UI."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        return step()
    except QualityGateFailed as exc:
        raise AirflowFailException(str(exc)) from exc
