"""Prometheus metrics of the ingest worker, on a registry of its own (one per worker)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.records = Counter("lascopf_ingest_records_total", "Records stored", ["source"], registry=r)
        self.rejected = Counter("lascopf_ingest_rejected_total", "Records dead-lettered", ["source", "reason"],
                                registry=r)
        self.duplicates = Counter("lascopf_ingest_duplicates_total", "Duplicate records absorbed", ["source"],
                                  registry=r)
        self.lake_objects = Counter("lascopf_ingest_lake_objects_total", "Parquet objects written", ["source"],
                                    registry=r)
        self.batches = Counter("lascopf_ingest_batches_total", "Batches committed", registry=r)
        self.batch_seconds = Histogram(
            "lascopf_ingest_batch_seconds", "Time to make one batch durable (database, lake, offsets)",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=r)
        self.retries = Counter("lascopf_ingest_retries_total", "Writes retried because a server was away",
                               ["server"], registry=r)
        self.commit_failures = Counter("lascopf_ingest_commit_failures_total",
                                       "Offset commits lost to a rebalance (the records were durable)", registry=r)
        self.reopt_launch_failures = Counter("lascopf_ingest_reopt_launch_failures_total",
                                             "Re-optimisation launches that failed (retried)", registry=r)
        self.lag = Gauge("lascopf_ingest_consumer_lag", "Messages behind the end of the partition",
                         ["topic", "partition"], registry=r)

    def serve(self, port: int) -> None:
        start_http_server(port, addr="0.0.0.0", registry=self.registry)  # noqa: S104 - scraped by Prometheus

    def value(self, name: str, **labels: str) -> float:
        got = self.registry.get_sample_value(name, labels)
        return 0.0 if got is None else got
