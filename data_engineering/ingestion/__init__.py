"""Ingestion: Kafka → decode → validate → batch → store (PostgreSQL + lake) → commit offsets."""
