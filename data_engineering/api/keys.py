"""The API's keys in PostgreSQL: created with a role, looked up by digest, revoked (never deleted)."""

from __future__ import annotations

import uuid

import psycopg

from data_engineering.api.security import Principal, Role, key_digest, new_api_key


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
