"""Dependencies every route declares: settings, the caller with a role at least the route's (401
without valid credentials, 403 with too small a role), and a pooled connection, taken only after
the caller is known and returned as soon as the route function ends (503 when none frees up in
time)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Annotated

import psycopg
from anyio import CapacityLimiter, to_thread
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPBearer
from psycopg_pool import ConnectionPool, PoolTimeout, TooManyRequests

from data_engineering.api.errors import busy
from data_engineering.api.security import Principal, Role
from data_engineering.settings import Settings

# Declared for the OpenAPI spec; the credentials themselves are read once per request, in memory, by
# the CallerGate middleware (before the body is read or a connection taken).
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key (`lascopf api key-create`)")
bearer = HTTPBearer(auto_error=False, description="a JWT signed with API_JWT_SECRET (`lascopf api token`)")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_pool(request: Request) -> ConnectionPool:
    return request.app.state.pool


SettingsDep = Annotated[Settings, Depends(get_settings)]
Pool = Annotated[ConnectionPool, Depends(get_pool)]


async def current_principal(request: Request, _key: Annotated[str | None, Depends(api_key_header)],
                            _bearer: Annotated[object, Depends(bearer)]) -> Principal:
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, getattr(request.state, "auth_error", "credentials required"),
                            headers={"WWW-Authenticate": "Bearer"})
    return principal


Caller = Annotated[Principal, Depends(current_principal)]


def checkout(pool: ConnectionPool, settings: Settings) -> psycopg.Connection:
    """A connection within API_POOL_TIMEOUT_S, else a 503 with Retry-After (also when more callers
    already wait than the pool queues). Give it back with `pool.putconn`."""
    try:
        return pool.getconn(settings.api_pool_timeout_s)
    except (PoolTimeout, TooManyRequests) as exc:
        raise busy(settings.api_retry_after_s, "no database connection free; try again shortly") from exc


@contextmanager
def pooled(pool: ConnectionPool, settings: Settings) -> Iterator[psycopg.Connection]:
    """`checkout` for work outside a route (the WebSocket handshake)."""
    conn = checkout(pool, settings)
    try:
        yield conn
    finally:
        pool.putconn(conn)


class Lease:
    """The pooled connection a request holds. A response that outlives the route (a CSV stream)
    `keep`s it and gives it back itself; otherwise it goes back when the route function ends."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn, self.kept = conn, False

    def keep(self) -> psycopg.Connection:
        self.kept = True
        return self.conn


async def get_lease(request: Request, pool: Pool, settings: SettingsDep, _: Caller) -> AsyncIterator[Lease]:
    """Depends on the caller, so no route takes a connection for an unauthenticated request. The wait
    for a connection runs on a thread of its own limiter (`app.state.checkouts`), never on one a
    route body needs: threads blocked waiting for connections must not starve the routes that hold
    them (FastAPI would run a sync dependency on the routes' thread pool)."""
    conn = await to_thread.run_sync(checkout, pool, settings, limiter=request.app.state.checkouts)
    lease = Lease(conn)
    try:
        yield lease
    finally:
        if not lease.kept:  # on a limiter of its own, as FastAPI exits sync dependencies: never queued
            await to_thread.run_sync(pool.putconn, conn, limiter=CapacityLimiter(1))


Leased = Annotated[Lease, Depends(get_lease, scope="function")]


async def get_conn(lease: Leased) -> psycopg.Connection:
    return lease.conn


Conn = Annotated[psycopg.Connection, Depends(get_conn)]


def require(role: Role):  # noqa: ANN201 - a FastAPI dependency
    async def check(principal: Caller) -> Principal:  # async: no worker thread for a 401 or 403
        if principal.role < role:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"needs the {role.name} role; {principal.subject} is "
                                                           f"{principal.role.name}")
        return principal

    return check


Viewer = Annotated[Principal, Depends(require(Role.viewer))]
Analyst = Annotated[Principal, Depends(require(Role.analyst))]
Operator = Annotated[Principal, Depends(require(Role.operator))]
