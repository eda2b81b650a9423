"""Real servers as local processes, for the embedded default and the tests (no Docker here):
PostgreSQL from its server binaries, the Tansu Kafka-protocol broker, and moto's S3 server."""
