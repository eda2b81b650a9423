"""Queue LASCOPF runs and read their results (JSON or CSV)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, StreamingResponse
from psycopg_pool import ConnectionPool

from data_engineering.api import queries
from data_engineering.api.deps import Conn, Operator, Pool, Viewer
from data_engineering.api.models import (
    BindingRow,
    ConvergenceRow,
    DispatchRow,
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

router = APIRouter(prefix="/api/v1", tags=["lascopf"])
ROW_MODELS = {ResultTable.dispatch: DispatchRow, ResultTable.lmps: LmpRow, ResultTable.flows: FlowRow,
              ResultTable.binding: BindingRow, ResultTable.convergence: ConvergenceRow,
              ResultTable.unserved: UnservedRow}
Limit = Annotated[int, Query(ge=1, le=100_000)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]


@router.post("/execute", status_code=status.HTTP_202_ACCEPTED, response_model=ExecuteAccepted)
def execute(body: ExecuteRequest, request: Request, conn: Conn, principal: Operator) -> ExecuteAccepted:
    """Queue a LASCOPF dispatch run (operator). Its results appear under the returned id."""
    runs = request.app.state.runs
    order = RunOrder.new(body.window_end or datetime.now(UTC), body.reason or f"requested by {principal.subject}")
    with conn.transaction():
        queries.insert_run_request(conn, order.execution_id, order.run_key, principal.subject, order.window_end,
                                   order.reason, runs.name)
    try:
        runs(order)
    except Exception as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"the run could not be started: {exc}") from exc
    request.app.state.metrics.runs_queued.labels(runs.name).inc()
    return ExecuteAccepted(execution_id=order.execution_id, run_key=order.run_key, status="queued",
                           launcher=runs.name, results_url=f"/api/v1/results/{order.execution_id}")


@router.get("/results/{execution_id}", response_model=ExecutionPublic,
            responses={202: {"model": RunRequestStatus, "description": "queued or running; no results yet"},
                       404: {"description": "no such execution or request"}})
def result(execution_id: uuid.UUID, conn: Conn, _: Viewer) -> ExecutionPublic | JSONResponse:
    row = queries.execution(conn, execution_id)
    if row is not None:
        return ExecutionPublic.model_validate(row)
    pending = queries.run_request(conn, execution_id)
    if pending is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no execution {execution_id}")
    return JSONResponse(RunRequestStatus.model_validate(pending).model_dump(mode="json"),
                        status_code=status.HTTP_202_ACCEPTED)


def _csv(pool: ConnectionPool, table: ResultTable, execution_id: uuid.UUID) -> StreamingResponse:
    """The whole table, streamed from a server-side cursor on a connection of its own."""
    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        with pool.connection() as conn:
            for row in queries.stream_result_rows(conn, table, execution_id):
                writer.writerow(row)
                yield out.getvalue()
                out.seek(0)
                out.truncate()

    return StreamingResponse(lines(), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{table.value}-{execution_id}.csv"'})


@router.get("/results/{execution_id}/{table}", response_model=ListOf[dict],
            responses={200: {"content": {"text/csv": {}}}, 404: {"description": "no such execution"}})
def result_table(execution_id: uuid.UUID, table: ResultTable, conn: Conn, pool: Pool, _: Viewer,
                 format: Literal["json", "csv"] = "json", limit: Limit = 10_000,  # noqa: A002
                 offset: Offset = 0) -> ListOf[dict] | StreamingResponse:
    """One result table of an execution: dispatch, lmps (LMP with its energy and congestion components),
    flows, binding, convergence or unserved (load cut off by islanding outages); `format=csv` exports
    the whole table."""
    if queries.execution(conn, execution_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no execution {execution_id}")
    if format == "csv":
        return _csv(pool, table, execution_id)
    model = ROW_MODELS[table]
    rows = [model.model_validate(r).model_dump() for r in queries.result_rows(conn, table, execution_id, limit,
                                                                               offset)]
    return ListOf[dict](data=rows, count=len(rows))
