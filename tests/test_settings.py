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


def env_example_secrets() -> set[str]:
    """Every value `.env.example` gives (or shows, commented out) for a password, secret or key."""
    pairs = re.findall(r"^#?\s*([A-Z0-9_]*(?:PASSWORD|SECRET|FERNET_KEY)[A-Z0-9_]*)=(.*)$", ENV_EXAMPLE.read_text(),
                       re.M)
    return {value.strip() for _, value in pairs}


def refused_in_production(**fields) -> bool:
    try:
        Settings(_env_file=None, environment="production", **fields)
    except ValidationError as exc:
        assert "refusing to run in production" in str(exc)
        return True
    return False


@pytest.mark.parametrize("secret", sorted(env_example_secrets()))
def test_production_refuses_every_secret_env_example_shows(secret):
    """Was: S3_SECRET_KEY=change-me-too (MINIO_ROOT_PASSWORD's placeholder) was accepted."""
    assert refused_in_production(lake_url="s3://lake", s3_secret_key=secret)
    assert refused_in_production(airflow_api_url="http://airflow:8080", airflow_username="admin",
                                 airflow_password=secret)
    assert refused_in_production(database_url=f"postgresql://lascopf:{secret}@db:5432/lascopf")
    if secret:  # an empty API_JWT_SECRET turns bearer tokens off
        assert refused_in_production(api_jwt_secret=secret)


def test_env_example_shows_its_secrets():
    assert {"change-me", "change-me-too", ""} <= env_example_secrets()


@pytest.mark.parametrize("fields", [
    {"database_url": "postgresql://lascopf:password@db:5432/lascopf"},
    {"database_url": "postgresql://lascopf@db:5432/lascopf"},
    {"database_url": "postgresql://lascopf:@db:5432/lascopf"},
    {"database_url": "host=db user=lascopf password=admin dbname=lascopf"},
    {"database_url": "host=db user=lascopf dbname=lascopf"},
    {"airflow_api_url": "http://airflow:8080", "airflow_username": "admin", "airflow_password": "admin"},
    {"airflow_api_url": "http://airflow:8080"},
    {"pushgateway_url": "http://user:admin@pushgateway:9091"},
    {"pushgateway_url": "http://user@pushgateway:9091"},
    {"lake_url": "s3://lake"},
    {"api_jwt_secret": "a" * 31},
])
def test_production_refuses_empty_and_well_known_passwords(fields):
    assert refused_in_production(**fields)


def test_production_accepts_real_secrets_and_errors_never_print_them():
    real = "Zq8-" + "v" * 28
    assert not refused_in_production(database_url=f"postgresql://lascopf:{real}@db:5432/lascopf", lake_url="s3://l",
                                     s3_secret_key=real, airflow_api_url="http://airflow:8080",
                                     airflow_password=real, api_jwt_secret=real + "x")
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, environment="production", database_url="postgresql://u:secret@db/x",
                 s3_secret_key=real)
    assert "secret@" not in str(refused.value) and real not in str(refused.value)
    assert not refused_in_production()  # nothing configured: embedded servers, API keys only
