"""Run this repository's DAGs through Airflow locally: an AIRFLOW_HOME with a SQLite metadata
database, the DAG folder pointed at `airflow_dags/`, and `dag.test()` (the scheduler's dependency
loop in-process, as Airflow's own docs recommend for testing). Airflow reads its configuration
when first imported, so `prepare_airflow_home` runs before any Airflow import."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

DAGS_DIR = Path(__file__).resolve().parents[2] / "airflow_dags"


def prepare_airflow_home(home: Path, dags_folder: Path = DAGS_DIR) -> dict[str, str]:
    """Point Airflow at `home` and the DAG folder (in this process's environment) and create its
    metadata database once. Returns the variables set."""
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    env = {"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
           "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True"}
    os.environ.update(env)
    if not (home / "airflow.db").exists():
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True,
                       env=os.environ.copy())
    return env


def load_dag(dag_id: str, dags_folder: Path = DAGS_DIR):  # noqa: ANN201 - airflow.sdk.DAG
    """The DAG object defined in `<dags_folder>/<dag_id>.py`."""
    from airflow.sdk import DAG

    path = dags_folder / f"{dag_id}.py"
    spec = importlib.util.spec_from_file_location(f"lascopf_dags.{dag_id}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for value in vars(module).values():
        if isinstance(value, DAG) and value.dag_id == dag_id:
            return value
    raise LookupError(f"{path} defines no DAG {dag_id!r}")


@dataclass(frozen=True)
class DagRunOutcome:
    dag_id: str
    run_id: str
    state: str
    tasks: dict[str, str]  # task id (with map index) → state
    xcom: dict[str, object]
    tries: dict[str, int]  # task id (with map index) → attempts made

    @property
    def ok(self) -> bool:
        return self.state == "success"


def run_dag(dag_id: str, logical_date: datetime | None, conf: dict | None = None,
            run_after: datetime | None = None) -> DagRunOutcome:
    """`dag.test()` one run; the states of the run and of every task, and the tasks' return values.
    The run id follows from the logical date (else from `run_after`), so running the same date again
    reruns that run. `logical_date=None` is a run as Airflow 3's REST API starts one by default: no
    logical date, no data interval, asked for at `run_after`."""
    dag = load_dag(dag_id)
    run = dag.test(logical_date=logical_date, run_after=run_after or logical_date, run_conf=conf)
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    def label(row) -> str:  # noqa: ANN001 - a task instance or an XCom row
        return row.task_id if row.map_index < 0 else f"{row.task_id}[{row.map_index}]"

    with create_session() as session:
        instances = run.get_task_instances(session=session)
        tasks = {label(ti): _state(ti.state) for ti in instances}
        tries = {label(ti): ti.try_number for ti in instances}
        xcom = {label(row): row.value for row in
                session.query(XComModel).filter(XComModel.dag_id == dag_id, XComModel.run_id == run.run_id)}
    return DagRunOutcome(dag_id, run.run_id, _state(run.state), tasks, xcom, tries)


def _state(state: object) -> str:
    """Airflow states are str enums; `None` (never scheduled) stays visible as 'None'."""
    return str(getattr(state, "value", state))
