"""
### Anomaly models

Daily: retrain the fault detectors on the labelled history (the `ANOMALY_HISTORY` before the run's
window end, or `window_start` in its conf), score them on its last third, which they did not see,
store each version with those metrics (`anomaly_models`), then flag the last whole minute before
the window end with the newest version (`anomaly_events`). A retrain always adds a version;
scoring upserts, so a rerun changes no event.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, get_current_context, task

from data_engineering.pipelines.dag_defaults import SCHEDULING, task_defaults
from data_engineering.pipelines.failures import fail_fast

DEFAULT_ARGS = task_defaults(timedelta(seconds=30), timedelta(minutes=30))
ANOMALY_HISTORY = timedelta(days=1)


def _window() -> tuple:
    from data_engineering.pipelines.airflow_runtime import run_window

    return run_window(get_current_context(), ANOMALY_HISTORY)


@dag(
    dag_id="anomaly_models",
    schedule="@daily",
    default_args=DEFAULT_ARGS,
    tags=["lascopf", "anomaly", "analytics"],
    doc_md=__doc__,
    **SCHEDULING,
)
def anomaly_models():
    @task
    @fail_fast
    def retrain() -> dict:
        from data_engineering.pipelines.airflow_runtime import platform
        from data_engineering.pipelines.anomaly import retrain

        return retrain(platform().db, *_window())

    @task
    @fail_fast
    def score_latest(models: dict) -> int:
        from data_engineering.pipelines.airflow_runtime import platform
        from data_engineering.pipelines.anomaly import score_latest

        return score_latest(platform().db, _window()[1])

    score_latest(retrain())


anomaly_models_dag = anomaly_models()
