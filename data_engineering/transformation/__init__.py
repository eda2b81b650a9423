"""Telemetry window → cleaned, aggregated bus loads → load forecast → LASCOPF case. Pure pandas and
numpy: reading and writing happen in `storage` and `pipelines`."""
