"""
### Daily batch ingest from the lake's landing prefix

Historical exports (CSV or Parquet in a telemetry contract, e.g. an EMS historian export of loads
and unit outputs) dropped under `landing/<source>/` are picked up: each file is checked row by row
against its contract (bad rows dead-lettered with the reason), the good rows pass a Great
Expectations gate, and they load through the stream's own writer (duplicates absorbed, archived to
the lake). Loaded files move to `archive/`, files failing the gate to `rejected/` with nothing
loaded; a file is taken once. One mapped task per file, so one bad file does not hold up the rest.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from data_engineering.pipelines.dag_defaults import SCHEDULING, task_defaults
from data_engineering.pipelines.failures import fail_fast

DEFAULT_ARGS = task_defaults(timedelta(seconds=30), timedelta(minutes=30), max_retry_delay=timedelta(minutes=5))


@dag(
    dag_id="lascopf_daily_ingest",
    schedule="@daily",
    default_args=DEFAULT_ARGS,
    tags=["lascopf", "ingest", "batch"],
    doc_md=__doc__,
    **SCHEDULING,
)
def lascopf_daily_ingest():
    @task
    @fail_fast
    def list_landing_files() -> list[str]:
        from data_engineering.pipelines.airflow_runtime import platform
        from data_engineering.pipelines.landing import pending_files

        return pending_files(platform())

    @task(max_active_tis_per_dag=2)
    @fail_fast
    def load(key: str) -> dict:
        from dataclasses import asdict

        from data_engineering.pipelines.airflow_runtime import platform
        from data_engineering.pipelines.landing import load_file

        return asdict(load_file(platform(), key))

    @task
    @fail_fast
    def summarise(outcomes: list[dict]) -> dict:
        """Fails the run when a file was rejected, after every file had its turn."""
        from airflow.sdk.exceptions import AirflowFailException

        outcomes = list(outcomes)
        rejected = [o for o in outcomes if o["status"] == "rejected"]
        summary = {"files": len(outcomes), "rows_loaded": sum(o["rows_loaded"] for o in outcomes),
                   "rows_dead_lettered": sum(o["rows_dead_lettered"] for o in outcomes), "rejected": len(rejected)}
        if rejected:
            raise AirflowFailException(f"{summary}; rejected: " + "; ".join(f"{o['key']}: {o['reason']}"
                                                                           for o in rejected))
        return summary

    summarise(load.expand(key=list_landing_files()))


lascopf_daily_ingest_dag = lascopf_daily_ingest()
