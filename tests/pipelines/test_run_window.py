"""The window a task learns from its run: conf first, then the data interval, then the instant; an
empty window widened by what the DAG asks for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from data_engineering.pipelines.airflow_runtime import run_window

T0 = datetime(2026, 11, 28, 12, tzinfo=UTC)


def context(conf: dict | None = None, start: datetime | None = None, end: datetime | None = None) -> dict:
    return {"dag_run": SimpleNamespace(conf=conf, data_interval_start=start, data_interval_end=end,
                                       run_after=T0, start_date=T0)}


def test_the_conf_window_wins_and_a_data_interval_is_kept_as_it_is() -> None:
    conf = {"window_start": "2026-11-28T10:00:00+00:00", "window_end": "2026-11-28T11:00:00+00:00"}
    assert run_window(context(conf), timedelta(days=1)) == (T0 - timedelta(hours=2), T0 - timedelta(hours=1))
    interval = (T0 - timedelta(hours=1), T0)
    assert run_window(context(None, *interval), timedelta(days=1)) == interval


def test_an_empty_window_becomes_the_history_the_dag_asks_for() -> None:
    assert run_window(context()) == (T0, T0)  # the dispatch: only the instant matters
    assert run_window(context(), timedelta(hours=1)) == (T0 - timedelta(hours=1), T0)
    assert run_window(context({"window_end": "2026-11-28T12:00:00+00:00"}), timedelta(days=1)) == (
        T0 - timedelta(days=1), T0)
