"""The FastAPI application: routers, middleware, a connection pool, the key cache and the live
feeds, built from the settings by `create_app` (nothing happens at import).

Requests pass, outermost first: AccessLog (one line and the metrics per request) → CallerGate
(caller identified in memory, rate limits) → Admission (in-flight cap) → BodyLimit → the route,
whose connection dependency comes after its role check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from anyio import CapacityLimiter, to_thread
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from psycopg_pool import ConnectionPool

from data_engineering import __version__
from data_engineering.api.audit import AccessLog, redact_uvicorn_websocket_lines
from data_engineering.api.errors import validation_error
from data_engineering.api.feeds import PoleFeeds
from data_engineering.api.keys import KeyCache
from data_engineering.api.metrics import ApiMetrics
from data_engineering.api.middleware import Admission, BodyLimit, CallerGate
from data_engineering.api.routes import ami, anomaly, health, runs, stream, topology
from data_engineering.api.runs import launcher_for
from data_engineering.api.security import Tickets, authenticate
from data_engineering.settings import Settings

DESCRIPTION = """Results of the LASCOPF dispatch (dispatch, LMPs, flows, binding constraints,
convergence), AMI analytics (pole summaries, voltage sags, grid health, demand response) and the
network topology. Authenticate with an `X-API-Key` header or `Authorization: Bearer <JWT>`; roles
are viewer < analyst < operator < admin (reading needs viewer, DR estimates analyst, queueing a
run operator).

Limits: request bodies up to API_MAX_BODY_BYTES (413 beyond); API_RATE_LIMIT_KEY requests per key
or token subject and API_RATE_LIMIT_ANONYMOUS per client address without valid credentials (429
with Retry-After); API_MAX_CONCURRENT_REQUESTS requests in progress, and a database connection
within API_POOL_TIMEOUT_S (503 with Retry-After otherwise); API_RUN_QUEUE_MAX pending runs (429);
time windows end after they start and span at most 31 days; date-times are RFC 3339 strings with
a UTC offset (never numbers)."""


def create_app(settings: Settings, database_url: str, runs_launcher=None, platform=None) -> FastAPI:  # noqa: ANN001
    """`runs_launcher` queues LASCOPF runs (default: Airflow when configured, else in-process on
    `platform` or the servers the settings name)."""
    keys = KeyCache(database_url, settings.api_key_refresh_s)
    redact_uvicorn_websocket_lines()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Route bodies run on worker threads, each with its connection in hand: as many as connections.
        # Waiting for a connection takes a thread of another limiter (deps.get_lease), one per
        # admitted request at most.
        to_thread.current_default_thread_limiter().total_tokens = settings.api_pool_size
        app.state.checkouts = CapacityLimiter(settings.api_max_concurrent_requests + settings.api_pool_size)
        timeout_ms = int(settings.api_statement_timeout_s * 1000)
        pool = ConnectionPool(database_url, min_size=settings.api_pool_size, open=True,
                              timeout=settings.api_pool_timeout_s, max_waiting=settings.api_max_concurrent_requests,
                              kwargs={"autocommit": True, "application_name": "lascopf-api",
                                      "options": f"-c statement_timeout={timeout_ms}"})
        app.state.pool = pool
        keys.start()
        app.state.feeds = PoleFeeds(pool, app.state.checkouts, settings.api_stream_poll_s,
                                    settings.api_stream_backlog_s)
        app.state.runs = runs_launcher or launcher_for(settings, pool, platform)
        if hasattr(app.state.runs, "recover"):
            app.state.runs.recover()
        try:
            yield
        finally:
            if hasattr(app.state.runs, "shutdown"):
                app.state.runs.shutdown()
            keys.stop()
            pool.close()

    app = FastAPI(title="PowerLASCOPF data platform API", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, exception_handlers={RequestValidationError: validation_error})
    app.state.settings = settings
    app.state.metrics = metrics = ApiMetrics()
    app.state.tickets = Tickets(settings.api_ws_ticket_ttl_s)
    app.state.stream_slots = stream.StreamSlots(settings.api_ws_max_total, settings.api_ws_max_per_caller)
    jwt_secret = settings.api_jwt_secret.get_secret_value() if settings.api_jwt_secret else None
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(Admission, max_in_flight=settings.api_max_concurrent_requests,
                       retry_after_s=settings.api_retry_after_s)
    app.add_middleware(CallerGate, identify=partial(authenticate, keys.lookup, jwt_secret),
                       per_caller=settings.api_rate_limit_key, anonymous=settings.api_rate_limit_anonymous)
    app.add_middleware(AccessLog, metrics=metrics)
    for module in (health, runs, ami, anomaly, topology, stream):
        app.include_router(module.router)
    return app
