import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from data_engineering.settings import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"


def test_every_setting_is_documented_in_env_example():
    text = ENV_EXAMPLE.read_text()
    missing = [name for name in Settings.model_fields if not re.search(rf"^#?\s*{name.upper()}=", text, re.M)]
    assert missing == []


def test_production_refuses_placeholder_lake_secret(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("LAKE_URL", "s3://lake")
    monkeypatch.setenv("S3_SECRET_KEY", "change-me")
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(_env_file=None)
    monkeypatch.setenv("S3_SECRET_KEY", "a-real-secret-from-a-vault")
    assert Settings(_env_file=None).s3_secret_key.get_secret_value() == "a-real-secret-from-a-vault"


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", "site1.")
    monkeypatch.setenv("INGEST_BATCH_ROWS", "123")
    s = Settings(_env_file=None)
    assert s.topic("ami.readings") == "site1.ami.readings" and s.ingest_batch_rows == 123
