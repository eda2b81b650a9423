"""Queue LASCOPF runs and read their results (JSON, CSV or Excel)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Literal

import psycopg
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse
from psycopg_pool import ConnectionPool

from data_engineering.api import queries
from data_engineering.api.deps import Conn, Leased, Operator, Pool, SettingsDep, Viewer
from data_engineering.api.errors import PROTECTED, RETRY_AFTER, WITH_BODY
from data_engineering.api.excel import XLSX, xlsx_response
from data_engineering.api.models import (
    BindingRow,
    ConvergenceRow,
    DispatchRow,
    ErrorMessage,
    ExecuteAccepted,
    ExecuteRequest,
    ExecutionPublic,
    FlowRow,
    ListOf,
    LmpRow,
    RunRequestStatus,
    UnservedRow,
)
from data_engineering.api.queries import ResultTable
from data_engineering.api.runs import RunOrder

router = APIRouter(prefix="/api/v1", tags=["lascopf"], responses=PROTECTED)
ROW_MODELS = {ResultTable.dispatch: DispatchRow, ResultTable.lmps: LmpRow, ResultTable.flows: FlowRow,
              ResultTable.binding: BindingRow, ResultTable.convergence: ConvergenceRow,
              ResultTable.unserved: UnservedRow}
Limit = Annotated[int, Query(ge=1, le=100_000)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
QUEUE_FULL = {429: {"model": ErrorMessage, "headers": RETRY_AFTER,
                    "description": "API_RUN_QUEUE_MAX requests are queued or running already (or a rate limit)"}}
QUEUE_RETRY_AFTER_S = 60
CSV_CHUNK_CHARS = 64 * 1024


@router.post("/execute", status_code=status.HTTP_202_ACCEPTED, response_model=ExecuteAccepted,
             responses=WITH_BODY | QUEUE_FULL | {
                 502: {"model": ErrorMessage, "description": "the launcher refused the run"}})
def execute(body: ExecuteRequest, request: Request, principal: Operator, conn: Conn,
            settings: SettingsDep) -> ExecuteAccepted:
    """Queue a LASCOPF dispatch run (operator). Its results appear under the returned id. At most
    API_RUN_QUEUE_MAX requests are pending (queued or running) at once; asking again for the
    window_end of a pending request returns that request. Every call is recorded in `api_audit`."""
    runs = request.app.state.runs
    order = RunOrder.new(body.window_end or datetime.now(UTC), body.reason or f"requested by {principal.subject}")
    with conn.transaction():
        queued = queries.queue_run_request(conn, order.execution_id, order.run_key, principal.subject,
                                           order.window_end, order.reason, runs.name, settings.api_run_queue_max)
        detail = {"window_end": order.window_end.isoformat(), "reason": order.reason}
        if queued is not None:
            detail |= {"execution_id": str(queued["execution_id"]), "duplicate": queued["duplicate"]}
        queries.record_call(conn, principal.subject, "execute", 202 if queued else 429, detail)
    if queued is None:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, f"{settings.api_run_queue_max} runs are queued or "
                            "running already", headers={"Retry-After": str(QUEUE_RETRY_AFTER_S)})
    if not queued["duplicate"]:
        try:
            runs(order)
        except Exception as exc:
            raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"the run could not be started: {exc}") from exc
        request.app.state.metrics.runs_queued.labels(runs.name).inc()
    return ExecuteAccepted(**queued, results_url=f"/api/v1/results/{queued['execution_id']}")


@router.get("/results/{execution_id}", response_model=ExecutionPublic,
            responses={202: {"model": RunRequestStatus,
                             "description": "no results stored: the request's status (queued, running, or failed "
                                            "or succeeded without storing an execution)"},
                       404: {"model": ErrorMessage, "description": "no such execution or request"}})
def result(execution_id: uuid.UUID, _: Viewer, conn: Conn) -> ExecutionPublic | JSONResponse:
    row = queries.execution(conn, execution_id)
    if row is not None:
        return ExecutionPublic.model_validate(row)
    pending = queries.run_request(conn, execution_id)
    if pending is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no execution {execution_id}")
    return JSONResponse(RunRequestStatus.model_validate(pending).model_dump(mode="json"),
                        status_code=status.HTTP_202_ACCEPTED)


class CsvExport(StreamingResponse):
    """A whole result table as CSV, on one pooled connection that the response owns from the route's
    existence check to its last row (and returns however the response ends): taken before the
    response starts, so a busy pool is a 503 rather than an empty 200, and never held while waiting
    for a second one."""

    def __init__(self, pool: ConnectionPool, conn: psycopg.Connection, table: ResultTable,
                 execution_id: uuid.UUID) -> None:
        self._pool, self._conn = pool, conn
        self._rows = queries.stream_result_rows(conn, table, execution_id)
        super().__init__(self._lines(), media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{table.value}-{execution_id}.csv"'})

    def _lines(self) -> Iterator[str]:
        """Rows in chunks of about CSV_CHUNK_CHARS: one worker-thread hop per chunk, not per row."""
        out = io.StringIO()
        writer = csv.writer(out)
        for row in self._rows:
            writer.writerow(row)
            if out.tell() >= CSV_CHUNK_CHARS:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        try:
            await super().__call__(scope, receive, send)
        finally:
            await run_in_threadpool(self._release)

    def _release(self) -> None:
        self._rows.close()  # ends the export's transaction if the client left mid-way
        self._pool.putconn(self._conn)


@router.get("/results/{execution_id}/{table}", response_model=ListOf[dict],
            responses={200: {"content": {"text/csv": {}, XLSX: {}}},
                       404: {"model": ErrorMessage, "description": "no such execution"}})
def result_table(execution_id: uuid.UUID, table: ResultTable, _: Viewer, lease: Leased, pool: Pool,
                 format: Literal["json", "csv", "xlsx"] = "json", limit: Limit = 10_000,  # noqa: A002
                 offset: Offset = 0) -> ListOf[dict] | Response:
    """One result table of an execution: dispatch, lmps (LMP with its energy and congestion components),
    flows, binding, convergence or unserved (load cut off by islanding outages); `format=csv` exports
    the whole table, `format=xlsx` the whole table as an Excel workbook (up to a worksheet's rows)."""
    if queries.execution(lease.conn, execution_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no execution {execution_id}")
    if format == "csv":
        return CsvExport(pool, lease.keep(), table, execution_id)
    if format == "xlsx":
        return xlsx_response(f"{table.value}-{execution_id}.xlsx", table.value,
                             queries.stream_result_rows(lease.conn, table, execution_id))
    model = ROW_MODELS[table]
    data = [model.model_validate(r).model_dump()
            for r in queries.result_rows(lease.conn, table, execution_id, limit, offset)]
    return ListOf[dict](data=data, count=len(data))
