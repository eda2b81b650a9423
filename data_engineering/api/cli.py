"""What `lascopf api …` does: serve the API, manage keys, mint tokens. The typer wiring is in
`data_engineering.cli`."""

from __future__ import annotations

import uuid
from contextlib import ExitStack
from datetime import timedelta

from rich.console import Console

from data_engineering.api.keys import create_api_key, revoke_api_key
from data_engineering.api.security import Role, mint_token
from data_engineering.settings import Settings
from data_engineering.storage.database import Database


def _database(settings: Settings, stack: ExitStack):  # noqa: ANN202 - (Database, Platform | None)
    """The configured database, or the embedded platform's (started and migrated here)."""
    if settings.database_url:
        from data_engineering.storage.migrations import migrate

        db = Database(settings.database_url)
        migrate(db)
        return db, None
    from data_engineering.runtime import open_platform

    platform = open_platform(settings, stack)
    return platform.db, platform


def serve(settings: Settings, console: Console) -> None:
    import uvicorn

    from data_engineering.api.app import create_app

    with ExitStack() as stack:
        db, platform = _database(settings, stack)
        with db.transaction() as conn:
            if conn.execute("SELECT count(*) FROM api_keys").fetchone()[0] == 0:
                key_id, key = create_api_key(conn, "bootstrap", Role.admin)
                console.print(f"[bold]No API keys yet: created admin key {key_id}[/]\n  X-API-Key: {key}\n"
                              "  (shown once; create others with `lascopf api key-create`, then revoke this one)")
        url = f"http://{settings.api_host}:{settings.api_port}"
        console.print(f"API on {url} (docs: {url}/docs)")
        # access_log off: uvicorn's prints raw URLs; api.audit writes one line per request without secrets.
        uvicorn.run(create_app(settings, db.url, platform=platform), host=settings.api_host, port=settings.api_port,
                    log_level=settings.log_level.lower(), access_log=False,
                    timeout_graceful_shutdown=settings.api_shutdown_grace_s)


def key_create(settings: Settings, name: str, role: Role) -> tuple[uuid.UUID, str]:
    with ExitStack() as stack:
        db, _ = _database(settings, stack)
        with db.transaction() as conn:
            return create_api_key(conn, name, role)


def key_revoke(settings: Settings, key_id: uuid.UUID) -> bool:
    with ExitStack() as stack:
        db, _ = _database(settings, stack)
        with db.transaction() as conn:
            return revoke_api_key(conn, key_id)


def token(settings: Settings, subject: str, role: Role, ttl_minutes: int | None) -> str:
    if settings.api_jwt_secret is None:
        raise ValueError("set API_JWT_SECRET to mint tokens")
    ttl = timedelta(minutes=ttl_minutes or settings.api_jwt_ttl_minutes)
    return mint_token(settings.api_jwt_secret.get_secret_value(), subject, role, ttl)
