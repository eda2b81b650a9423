"""Roles, API keys and JWTs. Keys are random, shown once and stored as SHA-256 digests; JWTs are
HS256 with the role in a claim, signed with `API_JWT_SECRET` (no secret, no JWTs)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum

import jwt

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


def read_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=ISSUER,
                            options={"require": ["exp", "sub", "role", "iss"]})
        return Principal(str(claims["sub"]), Role[claims["role"]])
    except (jwt.PyJWTError, KeyError) as exc:
        raise AuthError(f"invalid token: {exc}") from exc
