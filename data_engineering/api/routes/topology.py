"""The network in force (branches and units with their switching status) and the feeders on it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from data_engineering.api import queries
from data_engineering.api.deps import Conn, Viewer
from data_engineering.api.models import Topology

router = APIRouter(prefix="/api/v1", tags=["grid"])


@router.get("/topology", response_model=Topology)
def topology(conn: Conn, _: Viewer,
             at: Annotated[AwareDatetime | None, Query(description="default: now")] = None) -> Topology:
    return Topology.model_validate(queries.topology(conn, at or datetime.now(UTC)))
