"""One structured log line and the Prometheus figures per request: who (key name or token subject,
never the secret), which route (its template, never the query string, which may carry a ticket),
the status and the time taken. Replaces uvicorn's access log, which prints the raw URL; uvicorn's
own WebSocket handshake lines lose their query string (`redact_uvicorn_websocket_lines`)."""

from __future__ import annotations

import json
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from data_engineering.api.metrics import ApiMetrics

log = logging.getLogger("data_engineering.api.access")


class AccessLog:
    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        outcome = {"status": 500}

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome["status"] = message["status"]
            elif message["type"] == "websocket.accept":
                outcome["status"] = 101
            elif message["type"] == "websocket.close" and outcome["status"] != 101:
                outcome["status"] = 403  # refused at the handshake (the close code is the reason)
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            self._record(scope, outcome["status"], time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", "unmatched")
        method = scope.get("method", "WS")
        principal = scope.get("state", {}).get("principal")
        if scope["type"] == "http":
            self.metrics.latency.labels(method, route).observe(seconds)
            self.metrics.requests.labels(method, route, str(status)).inc()
        log.info(json.dumps({"event": "api_request", "method": method, "route": route, "status": status,
                             "caller": principal.subject if principal else None,
                             "client": (scope.get("client") or ("unknown",))[0], "ms": round(seconds * 1000, 1)}))


class _NoQueryString(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and '"WebSocket %s"' in record.msg and isinstance(record.args, tuple):
            record.args = tuple(a.split("?", 1)[0] if isinstance(a, str) and a.startswith("/") else a
                                for a in record.args)
        return True


_NO_QUERY_STRING = _NoQueryString()


def redact_uvicorn_websocket_lines() -> None:
    """uvicorn logs each WebSocket handshake with its full URL (at INFO, whether or not its access
    log is on); a ticket there is spent already, but a URL is no place for credentials in a log."""
    logging.getLogger("uvicorn.error").addFilter(_NO_QUERY_STRING)
