"""What every DAG of the platform shares: the same owner, two retries with exponential backoff, a
timeout per task; one run at a time from a fixed start date, no catch-up. Imported at DAG parse
time, so it imports nothing heavy."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

START_DATE = datetime(2026, 1, 1, tzinfo=UTC)
SCHEDULING = {"start_date": START_DATE, "catchup": False, "max_active_runs": 1}


def task_defaults(retry_delay: timedelta, execution_timeout: timedelta,
                  max_retry_delay: timedelta | None = None) -> dict:
    args = {"owner": "lascopf", "retries": 2, "retry_delay": retry_delay, "retry_exponential_backoff": True,
            "execution_timeout": execution_timeout}
    if max_retry_delay is not None:
        args["max_retry_delay"] = max_retry_delay
    return args


def solve_queue() -> str:
    """The Celery queue of the solve task: `julia` (the solver-julia worker, whose tasks call PowerLASCOPF.jl)
    when SOLVER_BACKEND=julia, else Airflow's default queue. Executors without queues ignore it."""
    return "julia" if os.environ.get("SOLVER_BACKEND", "python").strip().lower() == "julia" else "default"
