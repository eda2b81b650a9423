"""
### LASCOPF dispatch

Every 5 minutes (and on demand, e.g. from the re-optimisation trigger with `{"window_end": …}` in
the run conf; a run with neither conf nor logical date ends its window when it was triggered):
extract the telemetry window that ends at the run's data interval end → Great
Expectations gate on AMI and SCADA → clean, aggregate AMI to buses, forecast the look-ahead → build
the N-1 case from the network model (with its own gate) and write it to the lake → solve the
LASCOPF → store dispatch, LMPs, flows, binding constraints and convergence → publish a summary.

Tasks hand each other lake keys and ids. A failed quality gate, too few live intervals and other bad
input or data fail the run without retries; only what may pass later (a server down) is retried. The
gate's report is in `quality_runs` / `quality_results` and as Data Docs in the lake. Rerunning a run
replaces its results (the execution id is derived from the run id).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, get_current_context, task

from data_engineering.pipelines.dag_defaults import SCHEDULING, solve_queue, task_defaults
from data_engineering.pipelines.failures import fail_fast

DEFAULT_ARGS = task_defaults(timedelta(seconds=20), timedelta(minutes=4), max_retry_delay=timedelta(minutes=2))


@dag(
    dag_id="lascopf_dispatch",
    schedule="*/5 * * * *",
    dagrun_timeout=timedelta(minutes=15),
    default_args=DEFAULT_ARGS,
    tags=["lascopf", "dispatch"],
    doc_md=__doc__,
    **SCHEDULING,
)
def lascopf_dispatch():
    @task
    @fail_fast
    def extract() -> dict:
        from data_engineering.pipelines import dispatch
        from data_engineering.pipelines.airflow_runtime import dispatch_run, platform

        return dispatch.extract(platform(), dispatch_run(get_current_context()))

    @task
    @fail_fast
    def validate(extracted: dict) -> str:
        from data_engineering.pipelines import dispatch
        from data_engineering.pipelines.airflow_runtime import dispatch_run, platform

        return dispatch.validate(platform(), dispatch_run(get_current_context()), extracted)

    @task
    @fail_fast
    def transform(extracted: dict, quality_run_id: str) -> dict:
        from data_engineering.pipelines import dispatch
        from data_engineering.pipelines.airflow_runtime import dispatch_run, platform

        return dispatch.transform(platform(), dispatch_run(get_current_context()), extracted)

    @task
    @fail_fast
    def build_case(transformed: dict) -> dict:
        from data_engineering.pipelines import dispatch
        from data_engineering.pipelines.airflow_runtime import dispatch_run, platform

        return dispatch.build(platform(), dispatch_run(get_current_context()), transformed)

    @task(execution_timeout=timedelta(minutes=10), queue=solve_queue())
    @fail_fast
    def solve(built: dict) -> dict:
        from data_engineering.pipelines import dispatch
        from data_engineering.pipelines.airflow_runtime import dispatch_run, platform

        return dispatch.solve(platform(), dispatch_run(get_current_context()), built)

    @task
    @fail_fast
    def store(extracted: dict, quality_run_id: str, transformed: dict, built: dict, solved: dict) -> str:
        from data_engineering.pipelines import dispatch
        from data_engineering.pipelines.airflow_runtime import dispatch_run, platform

        return dispatch.store(platform(), dispatch_run(get_current_context()), extracted, quality_run_id,
                              transformed, built, solved)

    @task
    @fail_fast
    def publish(execution_id: str) -> dict:
        from data_engineering.pipelines import dispatch
        from data_engineering.pipelines.airflow_runtime import dispatch_run, platform

        summary = dispatch.publish(platform(), dispatch_run(get_current_context()), execution_id)
        return {k: str(v) for k, v in summary.items()}

    extracted = extract()
    quality_run_id = validate(extracted)
    transformed = transform(extracted, quality_run_id)
    built = build_case(transformed)
    solved = solve(built)
    publish(store(extracted, quality_run_id, transformed, built, solved))


lascopf_dispatch_dag = lascopf_dispatch()
