"""A WebSocket that streams a pole's readings as they are stored. Credentials as on the HTTP routes
(`X-API-Key` or `Authorization: Bearer` headers), or, for browsers, which cannot set headers on a
WebSocket, `?ticket=` from `POST /api/v1/stream-tickets`: single-use and short-lived, so no lasting
credential is ever in a URL. Refusals close the handshake: 1008 for credentials, role or an unknown
pole, 1013 when the caller or the server has as many streams open as allowed (or no database
connection is free)."""

from __future__ import annotations

import anyio
from anyio import to_thread
from fastapi import APIRouter, HTTPException, Request, WebSocket, WebSocketDisconnect, status
from pydantic import TypeAdapter, ValidationError

from data_engineering.api import queries
from data_engineering.api.deps import Viewer, pooled
from data_engineering.api.errors import PROTECTED
from data_engineering.api.feeds import TooSlow
from data_engineering.api.models import Ident, StreamTicket
from data_engineering.api.security import AuthError, Principal

router = APIRouter(prefix="/api/v1", tags=["ami"])
POLE_ID = TypeAdapter(Ident)


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


class StreamSlots:
    """Open streams, in total and per caller, within their caps."""

    def __init__(self, total: int, per_caller: int) -> None:
        self.total, self.per_caller = total, per_caller
        self.open: dict[str, int] = {}

    def take(self, subject: str) -> None:
        if sum(self.open.values()) >= self.total:
            raise Refused(status.WS_1013_TRY_AGAIN_LATER, f"the server has {self.total} streams open")
        if self.open.get(subject, 0) >= self.per_caller:
            raise Refused(status.WS_1013_TRY_AGAIN_LATER, f"{subject} has {self.per_caller} streams open")
        self.open[subject] = self.open.get(subject, 0) + 1

    def give_back(self, subject: str) -> None:
        self.open[subject] -= 1
        if not self.open[subject]:
            del self.open[subject]


@router.post("/stream-tickets", response_model=StreamTicket, status_code=status.HTTP_201_CREATED,
             responses=PROTECTED)
def stream_ticket(request: Request, principal: Viewer) -> StreamTicket:
    """A single-use ticket for `WS /api/v1/poles/{pole_id}/live?ticket=` (viewer), valid for
    API_WS_TICKET_TTL_S seconds: what a browser puts in the URL instead of a key."""
    tickets = request.app.state.tickets
    return StreamTicket(ticket=tickets.issue(principal), ttl_s=tickets.ttl_s)


def _caller(websocket: WebSocket) -> Principal:
    """Header credentials first (identified by the CallerGate), else a ticket."""
    state = websocket.scope.get("state", {})
    if state.get("principal") is not None:
        return state["principal"]
    ticket = websocket.query_params.get("ticket")
    if ticket:
        principal = state["principal"] = websocket.app.state.tickets.redeem(ticket)
        return principal
    raise AuthError(state.get("auth_error", "credentials required"))


def _pole_exists(websocket: WebSocket, pole_id: str) -> bool:
    app = websocket.app.state
    with pooled(app.pool, app.settings) as conn:
        return queries.pole_exists(conn, pole_id)


async def _admit(websocket: WebSocket, pole_id: str) -> Principal:
    """Any valid caller may watch (viewer is the least role); the pole must exist."""
    try:
        principal = _caller(websocket)
        POLE_ID.validate_python(pole_id)
    except (AuthError, ValidationError) as exc:
        raise Refused(status.WS_1008_POLICY_VIOLATION, str(exc)) from exc
    try:
        exists = await to_thread.run_sync(_pole_exists, websocket, pole_id, limiter=websocket.app.state.checkouts)
    except HTTPException as exc:
        raise Refused(status.WS_1013_TRY_AGAIN_LATER, str(exc.detail)) from exc
    if not exists:
        raise Refused(status.WS_1008_POLICY_VIOLATION, f"no pole {pole_id!r}")
    return principal


@router.websocket("/poles/{pole_id}/live")
async def live(websocket: WebSocket, pole_id: str) -> None:
    state = websocket.app.state
    try:
        principal = await _admit(websocket, pole_id)
        state.stream_slots.take(principal.subject)
    except Refused as refused:
        await websocket.close(code=refused.code, reason=str(refused)[:120])
        return
    try:
        await websocket.accept()
        async with state.feeds.subscribe(pole_id) as subscription, anyio.create_task_group() as tasks:
            tasks.start_soon(_until_closed, websocket, tasks.cancel_scope)
            try:
                while True:
                    await websocket.send_text(await subscription.next())
            except TooSlow:
                await websocket.close(code=status.WS_1013_TRY_AGAIN_LATER, reason="client too slow; reconnect")
            except WebSocketDisconnect:
                pass
            tasks.cancel_scope.cancel()
    finally:
        state.stream_slots.give_back(principal.subject)


async def _until_closed(websocket: WebSocket, scope: anyio.CancelScope) -> None:
    """Notices a closed client (or a server shutting down) without waiting for data to send."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass
    scope.cancel()
