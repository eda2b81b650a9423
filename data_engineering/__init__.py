"""PowerLASCOPF data platform: simulate → ingest → store → validate → transform → solve → serve."""

__version__ = "0.1.0"
