"""Batch jobs (DAG tasks) are gone before Prometheus could scrape them: they push their gauges to
the Pushgateway, when one is configured (`PUSHGATEWAY_URL`)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def push_gauges(url: str | None, job: str, gauges: list[tuple[str, str, float | None]],
                grouping: dict[str, str] | None = None) -> None:
    """(name, help, value) gauges replace the job's group on the gateway; a gateway that cannot be
    reached is logged, never fails the pipeline that measured."""
    if not url:
        return
    from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

    registry = CollectorRegistry()
    for name, help_text, value in gauges:
        Gauge(name, help_text, registry=registry).set(float(value or 0.0))
    try:
        push_to_gateway(url, job=job, registry=registry, grouping_key=grouping or {})
    except OSError as exc:
        log.warning("could not push %s metrics to %s: %s", job, url, exc)
