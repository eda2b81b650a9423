"""Follows the Airflow runs the API started to their end, so a request's row says `running`,
`succeeded` or `failed` with the reason (the failed task and its error), as the in-process launcher's
rows do. One thread polls Airflow's REST API for every followed run; an Airflow that does not answer
is asked again at the next poll, and the rows wait."""

from __future__ import annotations

import logging
import threading
import uuid

import httpx
from psycopg_pool import ConnectionPool

from data_engineering.api import queries
from data_engineering.pipelines.airflow_api import AirflowClient

log = logging.getLogger(__name__)
FINAL = {"success": "succeeded", "failed": "failed"}


class AirflowRunFollower:
    def __init__(self, client: AirflowClient, pool: ConnectionPool, dag_id: str, poll_s: float) -> None:
        self.client, self.pool, self.dag_id, self.poll_s = client, pool, dag_id, poll_s
        self._followed: dict[uuid.UUID, tuple[str, str]] = {}  # execution id → (run id, status written)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="airflow-run-follower", daemon=True)
        self._thread.start()

    def follow(self, execution_id: uuid.UUID, run_id: str) -> None:
        with self._lock:
            self._followed[execution_id] = (run_id, "queued")

    @property
    def followed(self) -> set[uuid.UUID]:
        with self._lock:
            return set(self._followed)

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - a database or answer it cannot read: the next poll tries again
                log.exception("following Airflow runs")

    def poll(self) -> None:
        """Ask Airflow once about every followed run and write what changed."""
        with self._lock:
            followed = dict(self._followed)
        for execution_id, (run_id, written) in followed.items():
            try:
                state = self.client.run_state(self.dag_id, run_id)
                status = FINAL.get(state, "running" if state == "running" else "queued")
                if status == written:
                    continue
                message = self._message(execution_id, run_id, status)
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code != httpx.codes.NOT_FOUND:
                    log.warning("Airflow run %s: %s; asking again in %.0f s", run_id, exc, self.poll_s)
                    continue
                status, message = "failed", f"Airflow has no run {run_id}"
            except httpx.HTTPError as exc:
                log.warning("Airflow run %s: %s: %s; asking again in %.0f s", run_id, type(exc).__name__, exc,
                            self.poll_s)
                continue
            with self.pool.connection() as conn:
                queries.update_run_request(conn, execution_id, status, message)
            with self._lock:
                if status in FINAL.values():
                    self._followed.pop(execution_id, None)
                else:
                    self._followed[execution_id] = (run_id, status)
            log.info("API run %s (Airflow run %s): %s %s", execution_id, run_id, status, message)

    def _message(self, execution_id: uuid.UUID, run_id: str, status: str) -> str:
        if status == "failed":
            return f"Airflow run {run_id} failed: {self.client.failure_reason(self.dag_id, run_id)}"
        if status == "succeeded":
            return f"Airflow run {run_id} succeeded: execution {execution_id} stored"
        return f"Airflow run {run_id} {status}"
