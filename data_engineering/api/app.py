"""The FastAPI application: routers, a connection pool and metrics, built from the settings by
`create_app` (nothing happens at import)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from psycopg_pool import ConnectionPool

from data_engineering import __version__
from data_engineering.api.metrics import ApiMetrics
from data_engineering.api.routes import ami, health, runs, stream, topology
from data_engineering.api.runs import launcher_for
from data_engineering.settings import Settings

DESCRIPTION = """Results of the LASCOPF dispatch (dispatch, LMPs, flows, binding constraints,
convergence), AMI analytics (pole summaries, voltage sags, grid health, demand response) and the
network topology. Authenticate with an `X-API-Key` header or `Authorization: Bearer <JWT>`; roles
are viewer < analyst < operator < admin (reading needs viewer, DR estimates analyst, queueing a
run operator)."""


def create_app(settings: Settings, database_url: str, runs_launcher=None, platform=None) -> FastAPI:  # noqa: ANN001
    """`runs_launcher` queues LASCOPF runs (default: Airflow when configured, else in-process on
    `platform` or the servers the settings name)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timeout_ms = int(settings.api_statement_timeout_s * 1000)
        pool = ConnectionPool(database_url, min_size=1, max_size=settings.api_pool_size, open=True,
                              kwargs={"autocommit": True, "application_name": "lascopf-api",
                                      "options": f"-c statement_timeout={timeout_ms}"})
        app.state.pool = pool
        app.state.runs = runs_launcher or launcher_for(settings, pool, platform)
        try:
            yield
        finally:
            if hasattr(app.state.runs, "shutdown"):
                app.state.runs.shutdown()
            pool.close()

    app = FastAPI(title="PowerLASCOPF data platform API", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = metrics = ApiMetrics()

    @app.middleware("http")
    async def observe(request: Request, call_next) -> Response:  # noqa: ANN001
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.latency.labels(request.method, path).observe(time.perf_counter() - started)
        metrics.requests.labels(request.method, path, str(response.status_code)).inc()
        return response

    for module in (health, runs, ami, topology, stream):
        app.include_router(module.router)
    return app
