"""Create the telemetry topics and their dead-letter topics (idempotent)."""

from __future__ import annotations

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError


def ensure_topics(bootstrap_servers: str, topics: list[str], partitions: int, dead_letter_suffix: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="lascopf-admin")
    try:
        existing = set(admin.list_topics())
        wanted = [t for topic in topics for t in (topic, topic + dead_letter_suffix) if t not in existing]
        for name in wanted:
            try:
                admin.create_topics([NewTopic(name, partitions, 1)])
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()
