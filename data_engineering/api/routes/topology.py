"""The network in force (branches and units with their switching status) and the feeders on it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from data_engineering.api import queries
from data_engineering.api.deps import Conn, Viewer
from data_engineering.api.errors import PROTECTED
from data_engineering.api.models import Timestamp, Topology

router = APIRouter(prefix="/api/v1", tags=["grid"], responses=PROTECTED)


@router.get("/topology", response_model=Topology)
def topology(_: Viewer, conn: Conn,
             at: Annotated[Timestamp | None, Query(description="RFC 3339 with a UTC offset; default: now")] = None,
             ) -> Topology:
    return Topology.model_validate(queries.topology(conn, at or datetime.now(UTC)))
