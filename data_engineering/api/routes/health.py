"""Liveness and Prometheus metrics: open to scrapers and load balancers, no credentials."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from data_engineering.analytics.queries import has_timescaledb
from data_engineering.api.deps import get_pool
from data_engineering.api.models import Health

router = APIRouter(tags=["platform"])


@router.get("/health", response_model=Health,
            responses={503: {"model": Health, "description": "the database is unreachable"}})
def health(request: Request, response: Response) -> Health:
    try:
        with get_pool(request).connection(timeout=2) as conn:
            timescale = has_timescaledb(conn)
        return Health(status="ok", database=True, timescaledb=timescale)
    except Exception:  # any failure to reach the database is "degraded", never a 500
        response.status_code = 503
        return Health(status="degraded", database=False, timescaledb=False)


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
