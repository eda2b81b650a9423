"""Dependencies every route declares: settings, a pooled connection, and the caller with a role
at least the route's (401 without valid credentials, 403 with too small a role)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import ConnectionPool

from data_engineering.api.keys import principal_for_key
from data_engineering.api.security import AuthError, Principal, Role, read_token
from data_engineering.settings import Settings

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key (`lascopf api key-create`)")
bearer = HTTPBearer(auto_error=False, description="a JWT signed with API_JWT_SECRET (`lascopf api token`)")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_pool(request: Request) -> ConnectionPool:
    return request.app.state.pool


SettingsDep = Annotated[Settings, Depends(get_settings)]
Pool = Annotated[ConnectionPool, Depends(get_pool)]


def get_conn(pool: Pool) -> Iterator[psycopg.Connection]:
    with pool.connection() as conn:
        yield conn


Conn = Annotated[psycopg.Connection, Depends(get_conn)]


def authenticate(conn: psycopg.Connection, settings: Settings, api_key: str | None, token: str | None) -> Principal:
    """The caller behind an API key or a bearer token; AuthError when neither is valid."""
    if api_key:
        principal = principal_for_key(conn, api_key)
        if principal is None:
            raise AuthError("unknown or revoked API key")
        return principal
    if token:
        if settings.api_jwt_secret is None:
            raise AuthError("bearer tokens are not enabled (API_JWT_SECRET is unset)")
        return read_token(settings.api_jwt_secret.get_secret_value(), token)
    raise AuthError("credentials required: X-API-Key header or Authorization: Bearer <JWT>")


def current_principal(conn: Conn, settings: SettingsDep, api_key: Annotated[str | None, Depends(api_key_header)],
                      credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    """On the request's own pooled connection (FastAPI caches `get_conn` per request, so the route
    reuses it rather than taking a second one)."""
    try:
        return authenticate(conn, settings, api_key, credentials.credentials if credentials else None)
    except AuthError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc),
                            headers={"WWW-Authenticate": "Bearer"}) from exc


def require(role: Role):  # noqa: ANN201 - a FastAPI dependency
    def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role < role:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"needs the {role.name} role; {principal.subject} is "
                                                           f"{principal.role.name}")
        return principal

    return check


Viewer = Annotated[Principal, Depends(require(Role.viewer))]
Analyst = Annotated[Principal, Depends(require(Role.analyst))]
Operator = Annotated[Principal, Depends(require(Role.operator))]
