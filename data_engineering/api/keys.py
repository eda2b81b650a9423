"""The API's keys in PostgreSQL: created with a role, looked up by digest, revoked (never deleted);
and the in-memory copy of the active ones that requests are checked against."""

from __future__ import annotations

import logging
import threading
import uuid

import psycopg

from data_engineering.api.security import Principal, Role, key_digest, new_api_key

log = logging.getLogger(__name__)


def create_api_key(conn: psycopg.Connection, name: str, role: Role) -> tuple[uuid.UUID, str]:
    """A new key: its id and the key itself (only its digest is stored; show it once)."""
    key_id, key = uuid.uuid4(), new_api_key()
    conn.execute("INSERT INTO api_keys (key_id, name, role, key_sha256) VALUES (%s, %s, %s, %s)",
                 (key_id, name, role.name, key_digest(key)))
    return key_id, key


def principal_for_key(conn: psycopg.Connection, key: str) -> Principal | None:
    row = conn.execute("SELECT name, role FROM api_keys WHERE key_sha256 = %s AND revoked_at IS NULL",
                       (key_digest(key),)).fetchone()
    return None if row is None else Principal(f"key:{row[0]}", Role[row[1]])


def revoke_api_key(conn: psycopg.Connection, key_id: uuid.UUID) -> bool:
    return conn.execute("UPDATE api_keys SET revoked_at = now() WHERE key_id = %s AND revoked_at IS NULL",
                        (key_id,)).rowcount == 1


def active_keys(conn: psycopg.Connection) -> dict[str, Principal]:
    """Every key not revoked, by digest."""
    rows = conn.execute("SELECT key_sha256, name, role FROM api_keys WHERE revoked_at IS NULL").fetchall()
    return {digest: Principal(f"key:{name}", Role[role]) for digest, name, role in rows}


class KeyCache:
    """The active keys in memory, so that checking a key takes no pooled connection (and a flood of
    bad keys no database time). A thread re-reads them every `refresh_s` on a connection of its own:
    a new or revoked key takes effect within that time. When the database is unreachable the last
    copy stays in force (and the routes, which need the database, answer 503 anyway)."""

    def __init__(self, database_url: str, refresh_s: float) -> None:
        self._url, self._refresh_s = database_url, refresh_s
        self._keys: dict[str, Principal] = {}
        self._conn: psycopg.Connection | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def lookup(self, key: str) -> Principal | None:
        return self._keys.get(key_digest(key))

    def refresh(self) -> None:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._url, autocommit=True, connect_timeout=5,
                                         application_name="lascopf-api-keys")
        try:
            self._keys = active_keys(self._conn)
        except psycopg.Error:
            self._conn.close()
            raise

    def start(self) -> KeyCache:
        """(Again after `stop`: an app's lifespan may run more than once, as under test clients.)"""
        self.refresh()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="api-key-cache", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._conn is not None:
            self._conn.close()

    def _loop(self) -> None:
        while not self._stop.wait(self._refresh_s):
            try:
                self.refresh()
            except psycopg.Error as exc:
                log.warning("API keys not refreshed (the last copy stays in force): %s", exc)
