"""Airflow's own processes on this machine: LocalExecutor, metadata in PostgreSQL (psycopg 3 for
both the sync and the async engine), no example DAGs, the platform's DAGs unpaused, a simple-auth
admin whose password lives in a file. Shared by `lascopf up` and the live Airflow test."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from data_engineering.pipelines.airflow_local import DAGS_DIR

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMANDS = (("api-server", "--port", "{port}"), ("scheduler",), ("dag-processor",), ("triggerer",))


def admin_password(home: Path, user: str = "admin") -> tuple[str, bool]:
    """The admin's password, created on first use; True when it was created just now (print it once)."""
    path = home / "passwords.json"
    if path.exists():
        return json.loads(path.read_text())[user], False
    home.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    path.write_text(json.dumps({user: password}))
    path.chmod(0o600)
    return password, True


def _secret(home: Path, name: str) -> str:
    """A secret kept across restarts (sessions and tokens stay valid)."""
    path = home / name
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text()


def airflow_env(home: Path, metadata_url: str, port: int, user: str = "admin") -> dict[str, str]:
    """The AIRFLOW__* variables (plus AIRFLOW_HOME) for every Airflow process of one deployment."""
    db = metadata_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return {"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": db,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}", "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API_AUTH__JWT_SECRET": _secret(home, "jwt_secret"),
            "AIRFLOW__API__SECRET_KEY": _secret(home, "secret_key"),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{user}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1", "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__CORE__PARALLELISM": "4", "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "PYTHONPATH": str(REPO_ROOT)}


def commands(port: int) -> list[tuple[str, list[str]]]:
    """(service name, argv after `python -m airflow`) for api-server, scheduler, dag-processor, triggerer."""
    return [(f"airflow-{c[0]}", [a.format(port=port) for a in c]) for c in COMMANDS]
