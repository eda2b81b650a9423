"""Windows the fault detectors flagged (the anomaly_models DAG), as JSON or an Excel workbook."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from data_engineering.analytics.anomaly.labels import METER_KINDS, TRANSFORMER_KINDS
from data_engineering.api import queries
from data_engineering.api.deps import Analyst, Conn
from data_engineering.api.errors import PROTECTED
from data_engineering.api.excel import XLSX, xlsx_response
from data_engineering.api.models import AnomalyEventRow, ListOf
from data_engineering.api.routes.ami import End, Start, window

router = APIRouter(prefix="/api/v1", tags=["anomaly"], responses=PROTECTED)
FaultKind = Literal[TRANSFORMER_KINDS + METER_KINDS]  # type: ignore[valid-type]


@router.get("/anomaly-events", response_model=ListOf[AnomalyEventRow],
            responses={200: {"content": {XLSX: {}}}})
def anomaly_events(_: Analyst, conn: Conn, start: Start = None, end: End = None,
                   target_kind: Literal["transformer", "meter"] | None = None, kind: FaultKind | None = None,
                   format: Literal["json", "xlsx"] = "json",  # noqa: A002
                   limit: Annotated[int, Query(ge=1, le=100_000)] = 1_000,
                   offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> ListOf[AnomalyEventRow] | Response:
    """Flagged windows that began in the window, newest first, with the detector version that
    flagged each (analyst: the scores name suspected tampering). `format=xlsx` exports the page."""
    w = window(start, end)
    rows, total = queries.anomaly_events(conn, w.start, w.end, target_kind, kind, limit, offset)
    if format == "xlsx":
        columns = list(AnomalyEventRow.model_fields)
        return xlsx_response(f"anomaly-events-{w.start:%Y%m%dT%H%MZ}.xlsx", "anomaly_events",
                             [columns, *([r[c] for c in columns] for r in rows)])
    return ListOf[AnomalyEventRow](data=[AnomalyEventRow.model_validate(r) for r in rows], count=total)
