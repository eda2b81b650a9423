"""AMI analytics: pole summaries, voltage anomalies, grid health and demand-response estimates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from data_engineering.analytics.dr import dr_estimate
from data_engineering.analytics.health import health
from data_engineering.api import queries
from data_engineering.api.deps import Analyst, Conn, SettingsDep, Viewer
from data_engineering.api.errors import PROTECTED, WITH_BODY
from data_engineering.api.models import (
    WINDOW_RULES,
    DrComputeRequest,
    DrPole,
    DrResult,
    DrSlot,
    ErrorMessage,
    Ident,
    ListOf,
    PoleSummary,
    SagEvent,
    Timestamp,
    Window,
)

router = APIRouter(prefix="/api/v1", tags=["ami"], responses=PROTECTED)
Start = Annotated[Timestamp | None, Query(description=f"default: 24 hours before end ({WINDOW_RULES})")]
End = Annotated[Timestamp | None, Query(description=f"default: now ({WINDOW_RULES})")]
SLOT_HOURS = 5 / 60


def window(start: datetime | None, end: datetime | None) -> Window:
    end = end or datetime.now(UTC)
    try:
        return Window(start=start or end - timedelta(hours=24), end=end)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False,
                                                include_input=False)) from exc
    except OverflowError as exc:  # found by schemathesis: end=0001-01-01T00:00:00Z
        raise invalid("query", "the window reaches outside the calendar") from exc


def invalid(where: str, message: str) -> RequestValidationError:
    """A 422 in the shape the OpenAPI spec documents for every route (found by schemathesis)."""
    return RequestValidationError([{"loc": [where], "msg": message, "type": "value_error"}])


@router.get("/poles/{pole_id}/summary", response_model=PoleSummary,
            responses={404: {"model": ErrorMessage, "description": "no such pole"}})
def pole_summary(pole_id: Ident, _: Viewer, conn: Conn, start: Start = None, end: End = None) -> PoleSummary:
    """Energy, mean and peak kW, voltage extremes and ANSI C84.1 shares, from the 1-minute rollup."""
    w = window(start, end)
    if not queries.pole_exists(conn, pole_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no pole {pole_id!r}")
    return PoleSummary(start=w.start, end=w.end, **queries.pole_summary(conn, pole_id, w.start, w.end))


@router.get("/anomalies", response_model=ListOf[SagEvent])
def anomalies(_: Viewer, conn: Conn, start: Start = None, end: End = None,
              pole_id: Annotated[Ident | None, Query()] = None,
              severity: Annotated[Ident | None, Query(description="a band of voltage_bands")] = None,
              limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000,
              offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> ListOf[SagEvent]:
    """Voltage sag events that began in the window (gaps and islands per meter)."""
    w = window(start, end)
    rows, total = queries.sag_events(conn, w.start, w.end, pole_id, severity, limit, offset)
    return ListOf[SagEvent](data=[SagEvent.model_validate(r) for r in rows], count=total)


@router.get("/grid-health", response_model=ListOf[dict])
def grid_health(_: Viewer, conn: Conn, level: Literal["pole", "feeder"] = "pole",
                period: Literal["hour", "day"] = "hour", start: Start = None, end: End = None,
                ids: Annotated[list[Ident] | None, Query(max_length=1_000)] = None) -> ListOf[dict]:
    """Completeness, shares outside ANSI C84.1 ranges, peak kW and voltage volatility per pole or
    feeder and hour or day."""
    w = window(start, end)
    rows = health(conn, level, period, w.start, w.end, ids)
    return ListOf[dict](data=rows, count=len(rows))


@router.post("/dr/compute", response_model=DrResult, responses=WITH_BODY)
def dr_compute(body: DrComputeRequest, principal: Analyst, conn: Conn, settings: SettingsDep) -> DrResult:
    """Baseline (X-of-Y like days, holidays and earlier event days excluded), same-day adjustment and
    estimated shed per pole for an event window of at most 24 hours (analyst). Every call is recorded
    in `api_audit`."""
    default = settings.baseline_rule()
    x, y = body.x_days or default.x_days, body.y_days or default.y_days
    try:
        rule = replace(default, x_days=x, y_days=y, lookback_days=max(default.lookback_days, y))
    except ValueError as exc:
        raise invalid("body", str(exc)) from exc
    try:
        rows = dr_estimate(conn, body.event_start, body.event_end, rule, body.pole_ids)
    except OverflowError as exc:  # the look-back or adjustment window falls before year 1
        raise invalid("body", "the event is too close to year 1") from exc
    with conn.transaction():
        queries.record_call(conn, principal.subject, "dr_compute", 200, {
            "event_start": body.event_start.isoformat(), "event_end": body.event_end.isoformat(), "x_days": x,
            "y_days": y, "pole_ids": len(body.pole_ids) if body.pole_ids is not None else None})
    poles: dict[str, list[dict]] = {}
    for r in rows:
        poles.setdefault(r["pole_id"], []).append(r)
    data = [_dr_pole(pole_id, slots) for pole_id, slots in poles.items()]
    return DrResult(event_start=body.event_start, event_end=body.event_end, x_days=x, y_days=y,
                    shed_kwh=sum(p.shed_kwh or 0.0 for p in data), data=data, count=len(data))


def _dr_pole(pole_id: str, slots: list[dict]) -> DrPole:
    actual = [s["actual_kw"] for s in slots]
    complete = all(a is not None for a in actual)
    return DrPole(
        pole_id=pole_id, like_days=slots[0]["like_days"], adjustment_factor=slots[0]["adjustment_factor"],
        baseline_kwh=sum(s["adjusted_baseline_kw"] for s in slots) * SLOT_HOURS,
        actual_kwh=sum(actual) * SLOT_HOURS if complete else None,
        shed_kwh=sum(s["shed_kw"] for s in slots) * SLOT_HOURS if complete else None,
        slots=[DrSlot.model_validate(s) for s in slots])
