"""The pipelines the Airflow DAGs wire together, as plain functions: each step reads its inputs
by lake key or id, writes its outputs idempotently and returns keys and ids for the next step, so a
task can be retried or a run repeated safely. The re-optimisation trigger calls the same steps
in-process when no Airflow is configured."""
