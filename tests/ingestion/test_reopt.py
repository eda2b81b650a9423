"""The re-optimisation trigger's decisions (load deviation, topology events, cooldown) and their launch
off the commit path (retries, the newest decision kept)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pyarrow as pa
from prometheus_client import CollectorRegistry, Counter

from data_engineering.ingestion.reopt import BackgroundLauncher, ReoptimisationTrigger, TriggerEvent
from data_engineering.storage.telemetry import SourceWrite

T0 = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _scada(*totals: float) -> SourceWrite:
    rows = [{"ts": T0 + timedelta(seconds=5 * i), "element_type": t, "element_id": f"L{b}", "p_mw": total / 2}
            for i, total in enumerate(totals) for b, t in ((1, "load"), (2, "load"))]
    rows += [{"ts": T0, "element_type": "generator", "element_id": "G1", "p_mw": 9999.0}]
    return SourceWrite("scada", len(rows), len(rows), pa.Table.from_pylist(rows))


def _topology(element: str, up: bool) -> SourceWrite:
    rows = [{"ts": T0 + timedelta(minutes=1), "element_type": "branch", "element_id": element, "in_service": up}]
    return SourceWrite("topology", 1, 1, pa.Table.from_pylist(rows))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _trigger(clock: Clock) -> tuple[ReoptimisationTrigger, list[TriggerEvent]]:
    launched: list[TriggerEvent] = []
    return ReoptimisationTrigger(launched.append, deviation_pct=5.0, cooldown_s=60.0, interval=timedelta(minutes=5),
                                  clock=clock), launched


def test_small_load_moves_do_not_trigger_and_a_large_one_does() -> None:
    trigger, launched = _trigger(Clock())
    assert trigger([_scada(100.0, 102.0, 104.9)]) is None  # within 5 % of the first total (the reference)
    event = trigger([_scada(106.0)])
    assert event is not None and launched == [event]
    assert "106.0 MW" in event.reason and "6.0 %" in event.reason and event.window_end == T0
    assert trigger.reference_mw == 106.0  # the next deviation is measured from here


def test_a_backlog_window_ends_at_the_latest_complete_interval_not_at_the_deviation() -> None:
    """Catching up 12 minutes of backlog in one batch: the load moves in its first seconds, and the
    run's window ends at the last interval boundary the batch's data reaches (12:10), not there."""
    trigger, launched = _trigger(Clock())
    trigger([_scada(100.0)])
    event = trigger([_scada(*([100.0, 110.0] + [111.0] * 142))])  # 144 totals 5 s apart: 12:00:00 to 12:11:55
    assert event is not None and event.window_end == T0 + timedelta(minutes=10)
    assert trigger.reference_mw == 111.0  # the load the run sees, not the first that moved


def test_a_topology_event_triggers_at_once_and_the_cooldown_holds_the_next() -> None:
    clock = Clock()
    trigger, launched = _trigger(clock)
    event = trigger([_topology("2-4", False)])
    assert event is not None and event.reason == "topology: branch 2-4 out of service"
    clock.now = 30.0
    assert trigger([_topology("2-4", True)]) is None
    clock.now = 61.0
    assert trigger([_topology("2-4", True)]) is not None
    assert len(launched) == 2


def test_other_sources_are_ignored() -> None:
    trigger, launched = _trigger(Clock())
    weather = SourceWrite("weather", 1, 1, pa.Table.from_pylist([{"ts": T0, "temperature_c": 30.0}]))
    assert trigger([weather]) is None and launched == []


class FlakyLauncher:
    """Fails its first `failures` calls, then records what it launched."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[TriggerEvent] = []

    def __call__(self, event: TriggerEvent) -> None:
        self.calls.append(event)
        if len(self.calls) <= self.failures:
            raise ConnectionRefusedError("Airflow is down")


def _wait_for(condition, timeout_s: float = 5.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_a_failed_launch_is_counted_and_retried_until_it_succeeds() -> None:
    failures = Counter("test_reopt_failures", "test", registry=CollectorRegistry())
    flaky = FlakyLauncher(failures=3)
    background = BackgroundLauncher(flaky, failures, backoff_s=0.01, backoff_max_s=0.05)
    event = TriggerEvent("topology: branch 2-4 out of service", T0)
    background(event)  # returns at once, whatever the launcher does
    _wait_for(lambda: background.launched == [event])
    background.close()
    assert len(flaky.calls) == 4 and failures._value.get() == 3


def test_a_newer_decision_replaces_the_one_waiting_and_none_is_lost_while_down() -> None:
    flaky = FlakyLauncher(failures=10**6)
    background = BackgroundLauncher(flaky, backoff_s=0.05, backoff_max_s=0.05)
    first, second = (TriggerEvent(f"load moved {i}", T0 + timedelta(minutes=i)) for i in (1, 2))
    background(first)
    _wait_for(lambda: len(flaky.calls) >= 2)
    background(second)
    _wait_for(lambda: flaky.calls[-1] is second)
    flaky.failures = 0  # Airflow answers again
    _wait_for(lambda: background.launched == [second])
    background.close()
    assert first not in background.launched
