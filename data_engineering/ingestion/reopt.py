"""Re-optimisation trigger: the ingest worker hands it every batch of newly stored rows; it starts
a `lascopf_dispatch` run when the system load has moved more than a threshold since the last run it
started, or when a topology event (a branch or unit switched) arrives, at most once per cooldown.
A load-triggered window ends at the latest complete dispatch interval of the batch (while catching
up a backlog, the deviation can be minutes older than the newest stored data); a topology-triggered
one at the switch itself, so the network model in force at the window's end has it.

How a run starts is pluggable: the Airflow REST API in the compose stack (`AirflowApiLauncher`),
or a direct in-process call of the pipeline in the embedded mode (`InProcessLauncher`). Either runs
behind a `BackgroundLauncher`, off the ingest worker's commit path: an Airflow that is slow, refuses
or is down costs ingestion nothing, and the newest decision is launched once it answers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from prometheus_client import Counter

from data_engineering.storage.telemetry import SourceWrite

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TriggerEvent:
    reason: str
    window_end: datetime  # event time of the telemetry that triggered


class ReoptimisationTrigger:
    def __init__(self, launch: Callable[[TriggerEvent], None], deviation_pct: float, cooldown_s: float,
                 interval: timedelta, clock: Callable[[], float] = time.monotonic) -> None:
        self.launch = launch
        self.interval = interval
        self.deviation_pct = deviation_pct
        self.cooldown_s = cooldown_s
        self.clock = clock
        self.reference_mw: float | None = None  # system load when the last run was started
        self._last_fire: float | None = None
        self.fired: list[TriggerEvent] = []

    def __call__(self, writes: list[SourceWrite]) -> TriggerEvent | None:
        event = None
        for write in writes:
            if write.source == "topology" and write.new_rows.num_rows:
                event = event or self._topology_event(write.new_rows)
            elif write.source == "scada" and write.new_rows.num_rows:
                event = event or self._load_event(write.new_rows)
        if event is None:
            return None
        now = self.clock()
        if self._last_fire is not None and now - self._last_fire < self.cooldown_s:
            log.info("re-optimisation wanted (%s) but within the %.0f s cooldown", event.reason, self.cooldown_s)
            return None
        self._last_fire = now
        self.fired.append(event)
        log.info("re-optimisation triggered: %s", event.reason)
        self.launch(event)
        return event

    def _topology_event(self, rows: pa.Table) -> TriggerEvent:
        last = rows.sort_by([("ts", "descending")]).slice(0, 1).to_pylist()[0]
        state = "in service" if last["in_service"] else "out of service"
        return TriggerEvent(f"topology: {last['element_type']} {last['element_id']} {state}", last["ts"])

    def _load_event(self, rows: pa.Table) -> TriggerEvent | None:
        loads = rows.filter(pc.equal(rows["element_type"], "load"))
        if loads.num_rows == 0:
            return None
        totals = loads.group_by("ts").aggregate([("p_mw", "sum")]).sort_by("ts")
        times, values = totals["ts"].to_pylist(), totals["p_mw_sum"].to_pylist()
        for total in values:
            if self.reference_mw is None:
                self.reference_mw = total
                continue
            change = 100 * abs(total - self.reference_mw) / max(self.reference_mw, 1e-9)
            if change > self.deviation_pct:
                reason = f"system load {total:,.1f} MW moved {change:.1f} % from {self.reference_mw:,.1f} MW"
                self.reference_mw = values[-1]  # the load the run will see
                return TriggerEvent(reason, self._complete_until(times[-1]))
        return None

    def _complete_until(self, latest: datetime) -> datetime:
        """The end of the latest interval that the stored data covers (interval boundaries count from
        the epoch, as the pipeline's `floor`)."""
        epoch = datetime(1970, 1, 1, tzinfo=latest.tzinfo)
        return latest - (latest - epoch) % self.interval


class BackgroundLauncher:
    """Launches on a thread of its own. At most one decision waits (bounded): a newer one replaces
    it, since the run it starts sees the newest data anyway. A failed launch is logged, counted and
    retried with exponential backoff until it succeeds or a newer decision takes its place; the
    launcher's own timeout bounds each try."""

    def __init__(self, launch: Callable[[TriggerEvent], None], failures: Counter | None = None,
                 backoff_s: float = 2.0, backoff_max_s: float = 60.0) -> None:
        self.launch = launch
        self.failures = failures
        self.backoff_s, self.backoff_max_s = backoff_s, backoff_max_s
        self.launched: list[TriggerEvent] = []
        self._pending: TriggerEvent | None = None
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="reopt-launch", daemon=True)
        self._thread.start()

    def __call__(self, event: TriggerEvent) -> None:
        with self._wake:
            if self._pending is not None:
                log.info("re-optimisation %r superseded by %r before it was launched", self._pending.reason,
                         event.reason)
            self._pending = event
            self._wake.notify()

    def close(self, timeout_s: float = 5.0) -> None:
        with self._wake:
            self._closed = True
            if self._pending is not None:
                log.warning("re-optimisation %r not launched: the worker is stopping", self._pending.reason)
            self._wake.notify()
        self._thread.join(timeout_s)

    def _next(self) -> TriggerEvent | None:
        with self._wake:
            self._wake.wait_for(lambda: self._closed or self._pending is not None)
            return None if self._closed else self._pending

    def _loop(self) -> None:
        delay = self.backoff_s
        while (event := self._next()) is not None:
            try:
                self.launch(event)
            except Exception as exc:  # noqa: BLE001 - whatever the launcher raises, ingestion goes on
                if self.failures is not None:
                    self.failures.inc()
                log.warning("re-optimisation launch failed (%s: %s): retrying in %.0f s", type(exc).__name__, exc,
                            delay)
                with self._wake:  # a newer decision or close() cuts the wait short
                    self._wake.wait_for(lambda e=event: self._closed or self._pending is not e, delay)
                delay = min(2 * delay, self.backoff_max_s)
                continue
            delay = self.backoff_s
            self.launched.append(event)
            with self._wake:
                if self._pending is event:
                    self._pending = None


class InProcessLauncher:
    """Runs the dispatch pipeline in a background thread; a trigger while one runs is skipped
    (the running one already sees the newest data it can)."""

    def __init__(self, platform) -> None:  # noqa: ANN001 - runtime.Platform
        self.platform = platform
        self._busy = threading.Lock()
        self.threads: list[threading.Thread] = []

    def __call__(self, event: TriggerEvent) -> None:
        if not self._busy.acquire(blocking=False):
            log.info("a triggered dispatch is still running: %s skipped", event.reason)
            return
        thread = threading.Thread(target=self._run, args=(event,), name="reopt-dispatch", daemon=True)
        self.threads.append(thread)
        thread.start()

    def _run(self, event: TriggerEvent) -> None:
        from data_engineering.pipelines.dispatch import DispatchRun, run_dispatch

        try:
            run = DispatchRun(f"lascopf_dispatch/reopt__{event.window_end.isoformat()}", event.window_end)
            summary = run_dispatch(self.platform, run)
            log.info("triggered dispatch %s: %s", summary["execution_id"], summary["status"])
        except Exception:
            log.exception("triggered dispatch for %s failed", event.reason)
        finally:
            self._busy.release()


class AirflowApiLauncher:
    """Starts a `lascopf_dispatch` run through Airflow 3's REST API, with the trigger's reason and
    window end in the run conf."""

    def __init__(self, api_url: str, username: str, password: str, dag_id: str = "lascopf_dispatch",
                 timeout_s: float = 10.0) -> None:
        from data_engineering.pipelines.airflow_api import AirflowClient

        self.client = AirflowClient(api_url, username, password, timeout_s)
        self.dag_id = dag_id

    def __call__(self, event: TriggerEvent) -> None:
        self.start_run({"window_end": event.window_end.isoformat(), "reason": event.reason})

    def start_run(self, conf: dict, run_id: str | None = None) -> str:
        """Start a DAG run (with `run_id` when given, so the caller knows its execution id); its id."""
        started = self.client.trigger(self.dag_id, conf, run_id)
        log.info("Airflow run %s started: %s", started, conf.get("reason", ""))
        return started
