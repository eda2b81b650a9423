"""The one way to get a PostgreSQL connection (as Airflow's PostgresHook is for DAGs)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


class Database:
    """A PostgreSQL endpoint. Tests point it at their fixture server; the CLI at `DATABASE_URL`."""

    def __init__(self, url: str, application_name: str = "lascopf") -> None:
        self.url = url
        self.application_name = application_name

    def connect(self, autocommit: bool = False) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=autocommit, application_name=self.application_name)

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        with self.connect() as conn:
            yield conn

    def scalar(self, query: str, params: tuple | dict | None = None):  # noqa: ANN201 - any column type
        with self.connect(autocommit=True) as conn:
            row = conn.execute(query, params).fetchone()
            return None if row is None else row[0]

    def __repr__(self) -> str:
        return f"Database({psycopg.conninfo.make_conninfo(self.url, password='***')!r})"
