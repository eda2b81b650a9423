"""
### AMI analytics

Every hour, for the data interval (and a margin before it, so events and buckets that straddle the
boundary are complete): refresh the 1- and 5-minute meter rollups (continuous aggregates on
TimescaleDB, incrementally refreshed tables otherwise; the pole rollups are views over them), detect
voltage sags (gaps and islands per meter: below `ANALYTICS_SAG_THRESHOLD_PU` of nominal for at least
`ANALYTICS_SAG_MIN_DURATION_S`, never joined across missing samples, with an ANSI C84.1 severity
band), and publish the next day's demand-response baselines (X-of-Y like days, holidays excluded).
A run with neither a data interval nor a window in its conf (triggered through the REST API) takes
the hour before it was triggered. All upserts: reruns are safe.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, get_current_context, task

from data_engineering.pipelines.dag_defaults import SCHEDULING, task_defaults
from data_engineering.pipelines.failures import fail_fast

DEFAULT_ARGS = task_defaults(timedelta(seconds=30), timedelta(minutes=20))
MARGIN = timedelta(minutes=10)


def _window() -> tuple:
    from data_engineering.pipelines.airflow_runtime import run_window

    start, end = run_window(get_current_context(), timedelta(hours=1))  # a manual run: the hour before it
    return start - MARGIN, end


@dag(
    dag_id="ami_analytics",
    schedule="@hourly",
    default_args=DEFAULT_ARGS,
    tags=["lascopf", "ami", "analytics"],
    doc_md=__doc__,
    **SCHEDULING,
)
def ami_analytics():
    @task
    @fail_fast
    def refresh_rollups() -> dict:
        from data_engineering.analytics.rollups import refresh_rollups
        from data_engineering.pipelines.airflow_runtime import platform

        return refresh_rollups(platform().db, *_window())

    @task
    @fail_fast
    def detect_sags() -> int:
        from data_engineering.analytics.sags import detect_sags
        from data_engineering.pipelines.airflow_runtime import platform

        p = platform()
        return detect_sags(p.db, *_window(), p.settings.sag_rule())

    @task
    @fail_fast
    def dr_baselines(rollups: dict) -> int:
        from data_engineering.analytics.dr import store_day_baselines
        from data_engineering.pipelines.airflow_runtime import platform

        p = platform()
        return store_day_baselines(p.db, (_window()[1] + timedelta(days=1)).date(), p.settings.baseline_rule())

    dr_baselines(refresh_rollups())
    detect_sags()


ami_analytics_dag = ami_analytics()
