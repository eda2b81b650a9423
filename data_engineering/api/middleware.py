"""ASGI middleware that bounds what one caller can cost before a route runs: the caller identified
in memory and rate-limited, requests beyond the server's capacity turned away at once, bodies
limited in size before anything parses them."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from fastapi import HTTPException, status
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from data_engineering.api.errors import error_response
from data_engineering.api.security import AuthError, Principal

# Monitoring must get through whatever the load: liveness and metrics are neither limited nor counted.
UNMETERED_PATHS = frozenset({"/health", "/metrics"})


class CallerGate:
    """Identifies the caller from its headers (`identify` works in memory: no pooled connection, no
    body read) into `scope["state"]` for the routes and the access log, then applies the rate
    limits: per key or token subject, and per client address for requests without valid
    credentials. Over a limit: 429 with Retry-After. WebSockets are identified but limited by
    their own caps (routes/stream.py)."""

    def __init__(self, app: ASGIApp, identify: Callable[[str | None, str | None], Principal], per_caller: str,
                 anonymous: str) -> None:
        self.app, self.identify = app, identify
        self.per_caller, self.anonymous = parse_many(per_caller), parse_many(anonymous)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        state = scope.setdefault("state", {})
        headers = Headers(scope=scope)
        authorization = headers.get("authorization", "")
        token = authorization[7:].strip() if authorization[:7].lower() == "bearer " else None
        try:
            principal = state["principal"] = self.identify(headers.get("x-api-key"), token)
        except AuthError as exc:
            principal, state["auth_error"] = None, str(exc)
        if scope["type"] == "http" and scope["path"] not in UNMETERED_PATHS:
            if principal is not None:
                limits, bucket = self.per_caller, f"caller:{principal.subject}"
            else:
                limits, bucket = self.anonymous, f"address:{(scope.get('client') or ('unknown',))[0]}"
            for limit in limits:
                if not self.limiter.hit(limit, bucket):
                    wait = self.limiter.get_window_stats(limit, bucket).reset_time - time.time()
                    response = error_response(status.HTTP_429_TOO_MANY_REQUESTS, f"rate limit {limit} reached",
                                              {"Retry-After": str(max(1, math.ceil(wait)))})
                    return await response(scope, receive, send)
        await self.app(scope, receive, send)


class Admission:
    """At most `max_in_flight` HTTP requests in progress (streams until their last byte); beyond that
    a 503 with Retry-After at once, rather than a queue that turns into a hang."""

    def __init__(self, app: ASGIApp, max_in_flight: int, retry_after_s: int) -> None:
        self.app, self.max_in_flight, self.retry_after_s = app, max_in_flight, retry_after_s
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNMETERED_PATHS:
            return await self.app(scope, receive, send)
        if self.in_flight >= self.max_in_flight:
            response = error_response(status.HTTP_503_SERVICE_UNAVAILABLE, "server at capacity; try again shortly",
                                      {"Retry-After": str(self.retry_after_s)})
            return await response(scope, receive, send)
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class BodyLimit:
    """Request bodies up to `max_bytes`: a larger Content-Length is refused before any byte is read,
    and a body that streams past the limit stops there (413 either way)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_large = f"the request body is limited to {self.max_bytes} bytes"
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await error_response(status.HTTP_413_CONTENT_TOO_LARGE, too_large)(scope, receive, send)
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:  # raised inside the app, so its exception handler answers
                raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, too_large)
            return message

        await self.app(scope, limited, send)
