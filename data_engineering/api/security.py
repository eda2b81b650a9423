"""Roles, API keys, JWTs and WebSocket tickets. Keys are random, shown once and stored as SHA-256
digests; JWTs are HS256 with the role in a claim, signed with `API_JWT_SECRET` (no secret, no JWTs);
tickets are single-use and short-lived, so a URL never carries a lasting credential. Nothing here
touches the database: checking credentials costs no pooled connection."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Literal

import jwt
from pydantic import BaseModel, ValidationError

ISSUER = "lascopf"


class Role(IntEnum):
    """Ordered: each role can do what the ones below it can."""

    viewer = 1
    analyst = 2
    operator = 3
    admin = 4


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role


class AuthError(Exception):
    """Credentials missing, unknown, expired or malformed (401)."""


def new_api_key() -> str:
    return f"lk_{secrets.token_urlsafe(32)}"


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def mint_token(secret: str, subject: str, role: Role, ttl: timedelta) -> str:
    now = datetime.now(UTC)
    claims = {"sub": subject, "role": role.name, "iss": ISSUER, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm="HS256")


class TokenClaims(BaseModel):
    """The claims a token must carry beyond the registered ones PyJWT checks: a subject and exactly
    one of the four role names (a list, a number or an unknown name is an invalid token, not a 500)."""

    sub: str
    role: Literal["viewer", "analyst", "operator", "admin"]


def read_token(secret: str, token: str) -> Principal:
    try:
        claims = TokenClaims.model_validate(jwt.decode(token, secret, algorithms=["HS256"], issuer=ISSUER,
                                                       options={"require": ["exp", "sub", "role", "iss"]}))
    except jwt.PyJWTError as exc:
        raise AuthError(f"invalid token: {exc}") from exc
    except ValidationError as exc:
        raise AuthError("invalid token: the sub and role claims must be a string and one of "
                        + ", ".join(r.name for r in Role)) from exc
    return Principal(claims.sub, Role[claims.role])


def authenticate(lookup_key: Callable[[str], Principal | None], jwt_secret: str | None, api_key: str | None,
                 token: str | None) -> Principal:
    """The caller behind an API key (looked up in memory) or a bearer token; AuthError when neither
    is valid."""
    if api_key:
        principal = lookup_key(api_key)
        if principal is None:
            raise AuthError("unknown or revoked API key")
        return principal
    if token:
        if jwt_secret is None:
            raise AuthError("bearer tokens are not enabled (API_JWT_SECRET is unset)")
        return read_token(jwt_secret, token)
    raise AuthError("credentials required: X-API-Key header or Authorization: Bearer <JWT>")


class Tickets:
    """Single-use WebSocket tickets, valid `ttl_s` seconds, held in this process's memory: a browser
    (which cannot set headers on a WebSocket) gets one over HTTP with its credentials and puts only
    the ticket in the URL."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._issued: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def issue(self, principal: Principal) -> str:
        now = time.monotonic()
        ticket = f"wst_{secrets.token_urlsafe(24)}"
        with self._lock:
            self._issued = {t: v for t, v in self._issued.items() if v[1] > now}
            self._issued[ticket] = (principal, now + self.ttl_s)
        return ticket

    def redeem(self, ticket: str) -> Principal:
        with self._lock:
            principal, expires = self._issued.pop(ticket, (None, 0.0))
        if principal is None or expires <= time.monotonic():
            raise AuthError("unknown, used or expired ticket")
        return principal
