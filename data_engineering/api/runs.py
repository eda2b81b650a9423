"""Queueing a LASCOPF run from the API: through Airflow's REST API when `AIRFLOW_API_URL` is set
(the run id is chosen here, so the execution id is known before the run starts; the run is then
followed to its end), otherwise on a worker thread in the API process (one run at a time, in order).
Either way a row in `lascopf_run_requests` says where the request stands, up to `succeeded` or
`failed` with the reason."""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from psycopg_pool import ConnectionPool

from data_engineering.api import queries
from data_engineering.pipelines.artifacts import execution_id
from data_engineering.settings import Settings

log = logging.getLogger(__name__)
DAG_ID = "lascopf_dispatch"


@dataclass(frozen=True)
class RunOrder:
    run_id: str
    window_end: datetime
    reason: str

    @property
    def run_key(self) -> str:  # as the DAG names its runs (pipelines.airflow_runtime.run_key)
        return f"{DAG_ID}/{self.run_id}"

    @property
    def execution_id(self) -> uuid.UUID:
        return execution_id(self.run_key)

    @classmethod
    def new(cls, window_end: datetime, reason: str) -> RunOrder:
        return cls(f"api__{uuid.uuid4().hex}", window_end, reason)


class AirflowRuns:
    """Runs started through Airflow's REST API and followed there (`AirflowRunFollower`); requests a
    previous API process left unfinished are followed again on start."""

    name = "airflow"

    def __init__(self, settings: Settings, pool: ConnectionPool) -> None:
        from data_engineering.api.run_follower import AirflowRunFollower
        from data_engineering.ingestion.reopt import AirflowApiLauncher

        password = settings.airflow_password.get_secret_value() if settings.airflow_password else ""
        self._airflow = AirflowApiLauncher(settings.airflow_api_url or "", settings.airflow_username or "", password,
                                           DAG_ID)
        self._pool = pool
        self.follower = AirflowRunFollower(self._airflow.client, pool, DAG_ID, settings.api_run_poll_s)

    def recover(self) -> int:
        with self._pool.connection() as conn:
            unfinished = queries.unfinished_run_requests(conn, self.name)
        for request_id, run_key in unfinished:
            self.follower.follow(request_id, run_key.split("/", 1)[1])
        return len(unfinished)

    def __call__(self, order: RunOrder) -> None:
        try:
            self._airflow.start_run({"window_end": order.window_end.isoformat(), "reason": order.reason},
                                    order.run_id)
        except Exception as exc:
            with self._pool.connection() as conn:
                queries.update_run_request(conn, order.execution_id, "failed", f"Airflow refused the run: {exc}")
            raise
        self.follower.follow(order.execution_id, order.run_id)

    def shutdown(self) -> None:
        self.follower.stop()


class InProcessRuns:
    """The embedded mode: the dispatch pipeline on a single worker thread. Its queue lives in this
    process, so requests it holds when the API stops are marked failed with the reason, and so are
    any a previous process left queued or running (it cannot have finished them)."""

    name = "in_process"
    SHUTDOWN = "interrupted: the API shut down before the run finished"
    RESTARTED = "interrupted: the API restarted before the run finished"

    def __init__(self, settings: Settings, pool: ConnectionPool, platform=None) -> None:  # noqa: ANN001 - Platform
        self._settings, self._pool, self._platform = settings, pool, platform
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="api-dispatch")
        self._unfinished: set[uuid.UUID] = set()

    def recover(self) -> int:
        with self._pool.connection() as conn:
            return queries.fail_unfinished_run_requests(conn, self.name, self.RESTARTED)

    def __call__(self, order: RunOrder) -> None:
        self._unfinished.add(order.execution_id)
        self._executor.submit(self._run, order)

    def _run(self, order: RunOrder) -> None:
        from data_engineering.pipelines.dispatch import DispatchRun, run_dispatch
        from data_engineering.runtime import connect_platform

        self._status(order, "running")
        try:
            platform = self._platform or connect_platform(self._settings)
            summary = run_dispatch(platform, DispatchRun(order.run_key, order.window_end))
            self._status(order, "succeeded", f"{summary['status']}, objective {summary['objective_usd']}")
        except Exception as exc:  # the request row is where the caller learns why
            log.exception("API run %s failed", order.run_key)
            self._status(order, "failed", f"{type(exc).__name__}: {exc}")
        finally:
            self._unfinished.discard(order.execution_id)

    def _status(self, order: RunOrder, status: str, message: str = "") -> None:
        with self._pool.connection() as conn:
            queries.update_run_request(conn, order.execution_id, status, message)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._unfinished:
            with self._pool.connection() as conn:
                queries.fail_unfinished_run_requests(conn, self.name, self.SHUTDOWN, list(self._unfinished))


def launcher_for(settings: Settings, pool: ConnectionPool, platform=None) -> AirflowRuns | InProcessRuns:  # noqa: ANN001
    """Airflow when configured, else in-process (on `platform`, or the servers the settings name)."""
    return AirflowRuns(settings, pool) if settings.airflow_api_url else InProcessRuns(settings, pool, platform)
