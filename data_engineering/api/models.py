"""Request and response models; units in every field name, as in the tables behind them."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, StringConstraints, model_validator

# Identifiers as the asset model and network use them (p-00001, 1-2#2, G1); no control characters.
Ident = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
MAX_WINDOW_DAYS = 31
WINDOW_RULES = f"end after start, at most {MAX_WINDOW_DAYS} days apart; RFC 3339 with a UTC offset"
RunStatus = Literal["queued", "running", "succeeded", "failed"]
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339_only(value: object) -> object:
    """pydantic reads a bare number as Unix time (`at=0.5` would be 1970); a caller's date-time must
    be an RFC 3339 string."""
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339.fullmatch(value)):
        return value
    raise ValueError("expected an RFC 3339 date-time with a UTC offset, e.g. 2026-07-07T16:00:00Z")


Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339_only)]


T = TypeVar("T")


class ListOf(BaseModel, Generic[T]):
    data: list[T]
    count: int | None = Field(description="rows matching (None when paged past the end)")


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: bool
    timescaledb: bool


class ErrorMessage(BaseModel):
    detail: str


class ExecuteRequest(BaseModel):
    window_end: Timestamp | None = Field(None, description="telemetry window end (RFC 3339); default now. A "
                                                           "request for the same window_end as a pending one "
                                                           "returns that one")
    reason: str = Field("", max_length=200, pattern=r"^[^\x00]*$")


class ExecuteAccepted(BaseModel):
    execution_id: uuid.UUID
    run_key: str
    status: Literal["queued", "running"]
    launcher: Literal["airflow", "in_process"]
    results_url: str
    duplicate: bool = Field(False, description="an identical request was pending: this is that one")


class RunRequestStatus(BaseModel):
    execution_id: uuid.UUID
    status: RunStatus
    message: str
    requested_at: AwareDatetime


class ExecutionPublic(BaseModel):
    execution_id: uuid.UUID
    run_key: str
    status: str
    message: str
    objective_usd: float | None
    solve_time_s: float
    iterations: int
    method: str
    decomposition: str | None  # "interval" (ADMM) or None (centralized); older runs: "scenario"
    case_name: str
    case_hash: str
    network_version: int | None
    intervals: int
    interval_minutes: float
    contingencies: int
    max_violation_pu: float | None
    shed_mw: float
    window_start: AwareDatetime
    window_end: AwareDatetime
    horizon_start: AwareDatetime
    forecast_mape_pct: float | None
    persistence_mape_pct: float | None
    infeasible_contingencies: list[str]
    mode: str  # preventive | corrective
    created_at: AwareDatetime


class DispatchRow(BaseModel):
    interval: int
    ts: AwareDatetime
    gen_id: str
    bus_id: int
    p_mw: float


class LmpRow(BaseModel):
    interval: int
    ts: AwareDatetime
    bus_id: int
    load_mw: float
    shed_mw: float
    lmp_usd_mwh: float
    energy_usd_mwh: float | None  # the reference bus's price (None on runs stored before the split)
    congestion_usd_mwh: float | None  # LMP − energy: binding limits' shadow prices × shift factors


class UnservedRow(BaseModel):
    interval: int
    ts: AwareDatetime
    scenario: str  # 'base' or the outage that cuts the bus off
    bus_id: int
    unserved_mw: float


class FlowRow(BaseModel):
    interval: int
    ts: AwareDatetime
    scenario: str
    branch_id: str
    flow_mw: float
    limit_mw: float | None
    loading_pct: float | None


class BindingRow(BaseModel):
    interval: int
    branch_id: str
    contingency: str
    flow_mw: float
    limit_mw: float
    shadow_price_usd_mwh: float


class ConvergenceRow(BaseModel):
    iteration: int
    primal_residual_mw: float
    dual_residual_usd_mwh: float
    rho: float
    objective_usd: float
    scenarios: int


class Window(BaseModel):
    """A time window, at most MAX_WINDOW_DAYS long."""

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered_and_bounded(self) -> Window:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if (self.end - self.start).days >= MAX_WINDOW_DAYS:
            raise ValueError(f"windows are limited to {MAX_WINDOW_DAYS} days")
        return self


class PoleSummary(BaseModel):
    pole_id: str
    start: AwareDatetime
    end: AwareDatetime
    minutes: int
    meters: int | None
    readings: int
    energy_kwh: float | None
    mean_kw: float | None
    peak_kw: float | None
    vm_pu_avg: float | None
    voltage_min_v: float | None
    voltage_max_v: float | None
    outside_range_a_pct: float | None
    outside_range_b_pct: float | None
    sag_events: int


class SagEvent(BaseModel):
    meter_id: str
    pole_id: str
    start_ts: AwareDatetime
    end_ts: AwareDatetime
    samples: int
    duration_s: float
    min_voltage_v: float
    min_vm_pu: float
    severity: str


class AnomalyEventRow(BaseModel):
    window_start: AwareDatetime
    window_end: AwareDatetime
    target_kind: Literal["transformer", "meter"]
    target_id: str
    predicted_kind: str = Field(description="the fault kind flagged; empty for a detector that names none")
    score: float
    model_id: str
    detector: str
    version: int
    is_simulation: bool


class DrComputeRequest(BaseModel):
    event_start: Timestamp = Field(description="RFC 3339; the event lasts at most 24 hours")
    event_end: Timestamp = Field(description="RFC 3339, after event_start")
    pole_ids: list[Ident] | None = Field(None, max_length=10_000, description="default: every pole")
    x_days: int | None = Field(None, ge=1, le=30)
    y_days: int | None = Field(None, ge=1, le=60)

    @model_validator(mode="after")
    def _window(self) -> DrComputeRequest:
        if self.event_end <= self.event_start:
            raise ValueError("event_end must be after event_start")
        if (self.event_end - self.event_start).total_seconds() > 24 * 3600:
            raise ValueError("an event lasts at most 24 hours")
        if self.x_days and self.y_days and self.x_days > self.y_days:
            raise ValueError("x_days must not exceed y_days")
        return self


class DrSlot(BaseModel):
    slot_ts: AwareDatetime
    baseline_kw: float
    adjustment_factor: float
    adjusted_baseline_kw: float
    actual_kw: float | None
    shed_kw: float | None


class DrPole(BaseModel):
    pole_id: str
    like_days: list[date]
    adjustment_factor: float
    baseline_kwh: float
    actual_kwh: float | None
    shed_kwh: float | None
    slots: list[DrSlot]


class DrResult(BaseModel):
    event_start: AwareDatetime
    event_end: AwareDatetime
    x_days: int
    y_days: int
    shed_kwh: float
    data: list[DrPole]
    count: int


class Branch(BaseModel):
    branch_id: str
    from_bus_id: int
    to_bus_id: int
    x_pu: float
    rate_a_mw: float | None
    in_service: bool


class Generator(BaseModel):
    gen_id: str
    bus_id: int
    pmin_mw: float
    pmax_mw: float
    in_service: bool


class Feeder(BaseModel):
    feeder_id: str
    bus_id: int
    poles: int
    meters: int


class Topology(BaseModel):
    at: AwareDatetime
    network_version: int | None
    network_name: str | None
    buses: list[int]
    branches: list[Branch]
    generators: list[Generator]
    feeders: list[Feeder]


class StreamTicket(BaseModel):
    ticket: str = Field(description="pass as `?ticket=` to the WebSocket; valid once, for ttl_s seconds")
    ttl_s: float
