"""The one client of Airflow 3's REST API: a JWT from `/auth/token` (fetched again when it
expires), a DAG run started with no logical date (the window comes from its conf), a run's state,
and why a failed run failed (its failed tasks and the error each logged)."""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger(__name__)


class AirflowClient:
    def __init__(self, api_url: str, username: str, password: str, timeout_s: float = 10.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.username, self.password, self.timeout_s = username, password, timeout_s
        self._token: str | None = None

    def _request(self, method: str, path: str, headers: dict | None = None,
                 **kwargs: Any) -> httpx.Response:  # noqa: ANN401
        with httpx.Client(base_url=self.api_url, timeout=self.timeout_s) as client:
            response = self._send(client, method, path, headers or {}, kwargs)
            if response.status_code == httpx.codes.UNAUTHORIZED:
                self._token = None  # expired: one fresh token, then the answer stands
                response = self._send(client, method, path, headers or {}, kwargs)
        response.raise_for_status()
        return response

    def _send(self, client: httpx.Client, method: str, path: str, headers: dict, kwargs: dict) -> httpx.Response:
        if self._token is None:
            token = client.post("/auth/token", json={"username": self.username, "password": self.password})
            token.raise_for_status()
            self._token = token.json()["access_token"]
        return client.request(method, path, headers={**headers, "Authorization": f"Bearer {self._token}"}, **kwargs)

    def trigger(self, dag_id: str, conf: dict, run_id: str | None = None) -> str:
        """Start a run (named `run_id` when given); its id."""
        body: dict = {"logical_date": None, "conf": conf}
        if run_id:
            body["dag_run_id"] = run_id
        return self._request("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body).json().get("dag_run_id", run_id)

    def dag(self, dag_id: str) -> bool:
        """Whether the DAG is paused (a 404 until the dag-processor has parsed its file)."""
        return self._request("GET", f"/api/v2/dags/{dag_id}").json()["is_paused"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        """queued | running | success | failed."""
        return self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").json()["state"]

    def failure_reason(self, dag_id: str, run_id: str) -> str:
        """Each failed task with the error it logged last (the exception Airflow recorded)."""
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        failed = [t for t in self._request("GET", path).json()["task_instances"] if t["state"] == "failed"]
        if not failed:
            return "the run failed with no failed task (timed out or marked failed)"
        return "; ".join(f"{t['task_id']} (try {t['try_number']}): {self._task_error(path, t)}" for t in failed)

    def _task_error(self, path: str, task: dict) -> str:
        try:
            logged = self._request("GET", f"{path}/{task['task_id']}/logs/{task['try_number']}",
                                   params={"map_index": task.get("map_index", -1)},
                                   headers={"Accept": "application/json"}).json()["content"]
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            return f"its log unreadable: {type(exc).__name__}: {exc}"
        errors = [e["error_detail"] for e in logged if isinstance(e, dict) and e.get("error_detail")]
        if not errors:
            return "no error in its log"
        outermost = errors[-1][0]
        return f"{outermost.get('exc_type')}: {outermost.get('exc_value')}"
