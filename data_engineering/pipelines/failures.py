"""Which task failures are worth a retry. Bad input, data and configuration (`ValueError` — a
failed quality gate and too little data among them —, `LookupError`, `TypeError`) do not improve on
retry: the task fails at once with the reason (`AirflowFailException`), in seconds rather than
after minutes of backoff. Anything else (a server down, a timeout) keeps the DAG's retries.
Imported at DAG parse time, so it imports nothing heavy."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
PERMANENT = (ValueError, LookupError, TypeError)


def fail_fast(step: Callable[P, T]) -> Callable[P, T]:
    """Wrap a task's callable (under `@task`) so that a permanent error fails it without retries."""

    @functools.wraps(step)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return step(*args, **kwargs)
        except PERMANENT as exc:
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc

    run.fails_fast = True  # type: ignore[attr-defined] - what the DAG tests check every task for
    return run
