"""Error responses in one shape (`{"detail": ...}`): the statuses every protected route may answer,
as the OpenAPI spec documents them, and a validation handler that can echo any input."""

from __future__ import annotations

import math

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic_core import to_jsonable_python

from data_engineering.api.models import ErrorMessage

RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "integer"}}}


def _documented(description: str, headers: dict | None = None) -> dict:
    return {"model": ErrorMessage, "description": description} | ({"headers": headers} if headers else {})


# What a route that reads a JSON body can answer besides 422.
WITH_BODY = {400: _documented("the body cannot be read as JSON")}
# What any route behind credentials can answer besides its own statuses (and 422).
PROTECTED = {
    401: _documented("credentials missing, unknown, revoked, expired or malformed",
                     {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}),
    403: _documented("the caller's role is below the route's"),
    413: _documented("the body is larger than API_MAX_BODY_BYTES (1 MiB by default)"),
    429: _documented("rate limit reached: API_RATE_LIMIT_KEY per key or token subject, API_RATE_LIMIT_ANONYMOUS "
                     "per client address for requests without valid credentials", RETRY_AFTER),
    503: _documented("the server is at capacity (API_MAX_CONCURRENT_REQUESTS in progress, or no database "
                     "connection free within API_POOL_TIMEOUT_S) or the database is unreachable", RETRY_AFTER),
}


def error_response(status_code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)


def busy(retry_after_s: int, detail: str) -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail, headers={"Retry-After": str(retry_after_s)})


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's own handler fails (500) on input JSON cannot hold, such as NaN or Infinity: those are
    echoed as strings here, and anything else unserialisable by its str()."""
    detail = _finite(to_jsonable_python(exc.errors(), fallback=str))
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def _finite(value: object) -> object:
    """JSON-ready data with NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
