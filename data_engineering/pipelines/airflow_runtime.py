"""What a DAG task needs from Airflow: the run it belongs to, its window and the platform's servers.
Kept here so DAG files stay wiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from data_engineering.pipelines.dispatch import DispatchRun
from data_engineering.runtime import Platform, connect_platform
from data_engineering.settings import Settings


def platform() -> Platform:
    return connect_platform(Settings())


def run_key(context: dict[str, Any]) -> str:
    return f"{context['dag'].dag_id}/{context['run_id']}"


def _instant(value: datetime | str) -> datetime:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def run_window(context: dict[str, Any], empty: timedelta = timedelta(0)) -> tuple[datetime, datetime]:
    """The one place a task learns its window: `window_end` (and `window_start`) in the run's conf,
    what the re-optimisation trigger and the API send; else the data interval when the run has one;
    else the instant the run was asked for. Airflow 3 runs triggered through the REST API have no
    logical date and so no data interval: an empty window then becomes the `empty` before its end
    (each DAG says how much history a manual run covers)."""
    run = context["dag_run"]
    conf = run.conf or {}
    if conf.get("window_end"):
        end = _instant(conf["window_end"])
        start = _instant(conf["window_start"]) if conf.get("window_start") else end
    elif run.data_interval_end is not None:
        start, end = _instant(run.data_interval_start or run.data_interval_end), _instant(run.data_interval_end)
    else:
        start = end = _instant(run.run_after or run.start_date)
    return (end - empty if start == end else start), end


def dispatch_run(context: dict[str, Any]) -> DispatchRun:
    """The dispatch window ends where the run's window ends; `secure_spread` in the run's conf
    overrides DISPATCH_SECURE_SPREAD for that run."""
    conf = context["dag_run"].conf or {}
    secure = conf.get("secure_spread")
    if secure is not None and not isinstance(secure, bool):
        raise ValueError(f"conf secure_spread must be true or false, got {secure!r}")
    return DispatchRun(run_key(context), run_window(context)[1], secure)
