"""A WebSocket that streams a pole's readings as they are stored. Credentials come as the
`X-API-Key` header or an `api_key` / `token` query parameter (browsers cannot set headers on
WebSockets); a bad one closes the socket with 1008 (policy violation)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter, ValidationError

from data_engineering.api import queries
from data_engineering.api.deps import authenticate
from data_engineering.api.models import Ident
from data_engineering.api.security import AuthError

router = APIRouter(prefix="/api/v1")
POLE_ID = TypeAdapter(Ident)


def _authenticate(pool, settings, api_key: str | None, token: str | None) -> None:  # noqa: ANN001
    with pool.connection() as conn:
        authenticate(conn, settings, api_key, token)


def _fetch(pool, pole_id: str, after: tuple[datetime, str]) -> list[dict]:  # noqa: ANN001
    with pool.connection() as conn:
        return queries.live_readings(conn, pole_id, after)


@router.websocket("/poles/{pole_id}/live")
async def live(websocket: WebSocket, pole_id: str) -> None:
    state = websocket.app.state
    try:
        POLE_ID.validate_python(pole_id)
        await run_in_threadpool(
            _authenticate, state.pool, state.settings,
            websocket.headers.get("x-api-key") or websocket.query_params.get("api_key"),
            websocket.query_params.get("token"))
    except (AuthError, ValidationError) as exc:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=str(exc)[:120])
        return
    await websocket.accept()
    after = (datetime.now(UTC) - timedelta(seconds=state.settings.api_stream_backlog_s), "")
    try:
        while True:
            rows = await run_in_threadpool(_fetch, state.pool, pole_id, after)
            if rows:
                after = (rows[-1]["event_ts"], rows[-1]["meter_id"])
                await websocket.send_json([{**r, "event_ts": r["event_ts"].isoformat()} for r in rows])
            await asyncio.sleep(state.settings.api_stream_poll_s)
    except WebSocketDisconnect:
        return

