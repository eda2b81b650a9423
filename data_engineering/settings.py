"""The platform's one settings object, read from the environment (and `.env`).

Every field is documented in `.env.example`. Library code receives a `Settings` (or the few values
it needs) as an argument; only the CLI builds one from the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets nobody should run with: `.env.example`'s placeholders and the well-known defaults of the
# services in the stack (tests/test_settings.py checks that every secret in `.env.example` is here).
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "change-me-too", "changeme", "minioadmin", "password", "secret",
                                 "admin", "postgres", "airflow", "lascopf", "root", "test", "default", "12345678"})
MIN_JWT_SECRET_CHARS = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      hide_input_in_errors=True)  # errors must not print secrets

    environment: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"

    # Embedded mode: where local servers keep their data when no external service is configured.
    embedded_dir: Path = Path(".lascopf")

    # PostgreSQL / TimescaleDB (telemetry, asset model, dead letters, lake manifest).
    database_url: str | None = Field(
        default=None, description="postgresql://user:pass@host:port/db; unset = embedded server"
    )

    # Kafka.
    kafka_bootstrap_servers: str | None = Field(default=None, description="unset = embedded Tansu broker")
    kafka_topic_prefix: str = ""
    kafka_partitions: int = Field(default=4, ge=1)
    kafka_consumer_group: str = "lascopf-ingest"
    kafka_compression: Literal["lz4", "gzip", "zstd", "none"] = "lz4"
    kafka_max_poll_interval_ms: int = Field(default=300_000, ge=1_000)
    kafka_session_timeout_ms: int = Field(default=10_000, ge=1_000)
    dead_letter_suffix: str = ".dlq"

    # Data lake: s3://bucket[/prefix] (MinIO or any S3 server) or file:///path (embedded default).
    lake_url: str = "file://.lascopf/lake"
    s3_endpoint: str | None = Field(default=None, description="host:port of the S3 server")
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_secure: bool = False
    s3_region: str = "us-east-1"

    # Ingest worker.
    ingest_batch_rows: int = Field(default=20_000, ge=1, description="flush after this many records")
    ingest_linger_ms: int = Field(default=1_000, ge=0, description="flush at least this often")
    ingest_max_poll_records: int = Field(default=500, ge=1, description="Kafka messages per poll")
    ingest_gil_switch_interval_ms: float = Field(default=0.2, gt=0, le=50,
                                                 description="sys.setswitchinterval for the worker process")
    ingest_writers: int = Field(default=2, ge=1, le=8, description="batches made durable at once, one connection each")
    ingest_max_lateness_s: float = Field(default=30 * 86_400.0, gt=0,
                                         description="event time accepted this long before arrival (out_of_window)")
    ingest_max_lead_s: float = Field(default=300.0, ge=0, description="event time accepted this long after arrival")
    metrics_port: int = Field(default=0, ge=0, le=65535, description="Prometheus exporter port; 0 = off")

    # Telemetry conventions.
    nominal_voltage_v: float = Field(default=240.0, gt=0)
    nominal_frequency_hz: float = Field(default=60.0, gt=0)

    # Simulator defaults (CLI flags override).
    sim_case: str = "pglib_opf_case30_ieee"
    sim_meters: int = Field(default=200, ge=1)
    sim_rate_hz: float = Field(default=1.0, gt=0)
    sim_seed: int = 42
    sim_profiles: Literal["synthetic", "simbench"] = Field(
        default="synthetic", description="meter load shapes: synthetic, or real-derived SimBench profiles")

    # The dispatch pipeline (lascopf_dispatch DAG).
    dispatch_interval_minutes: float = Field(default=5.0, gt=0, description="length of one look-ahead interval")
    dispatch_intervals: int = Field(default=12, ge=1, description="look-ahead intervals solved")
    dispatch_window_minutes: float = Field(default=15.0, gt=0, description="telemetry window validated per run")
    dispatch_history_days: float = Field(
        default=9.0, gt=1, description="load history the forecast is fitted on (over 8 days: last week's features)")
    dispatch_secure_spread: bool = Field(
        default=False, description="secure each dispatch for the forecast's P10 and P90 loads too (conf secure_spread)")
    forecast_backtest_days: float = Field(default=1.0, gt=0, description="held-out days of each run's backtest")
    forecast_holiday_country: str | None = Field(
        default="US", description="public holidays as a forecast feature (python-holidays code; empty: none)")
    dispatch_allowed_lateness_s: float = Field(default=120.0, ge=0, description="later readings count as late")
    dispatch_min_live_intervals: int = Field(
        default=1, ge=0, description="complete AMI intervals the live window must hold, else the run fails saying so")
    dispatch_contingencies: str = Field(default="all", description="all | all-gen | none | N | 1-2,3-4 | G:<unit>")
    dispatch_mode: Literal["preventive", "corrective"] = "preventive"
    dispatch_islanding: Literal["refuse", "shed"] = Field(
        default="refuse", description="an outage or topology event cutting buses off: refused, or their load unserved")
    dispatch_emergency_factor: float | None = Field(default=1.2, gt=0, description="emergency = factor x normal")
    dispatch_method: Literal["admm", "centralized"] = "admm"
    solver_backend: Literal["python", "julia"] = Field(
        default="python", description="python, or julia: PowerLASCOPF.jl through juliacall (the solver container)")
    dispatch_load_shedding: bool = False
    dispatch_topic: str = Field(default="lascopf.dispatch", description="Kafka topic for dispatch summaries")
    flows_min_contingency_loading_pct: float = Field(default=80.0, ge=0,
                                                     description="store post-contingency flows from this loading")
    pushgateway_url: str | None = Field(default=None, description="Prometheus Pushgateway for pipeline metrics")

    # Data quality bands (Great Expectations gate).
    quality_voltage_min_pu: float = 0.9
    quality_voltage_max_pu: float = 1.1
    quality_voltage_mostly: float = Field(default=0.95, gt=0, le=1)
    quality_frequency_band_hz: float = Field(default=0.5, gt=0)
    quality_flatline_readings: int = Field(default=10, ge=2,
                                           description="stuck: this many consecutive identical (or ~0) readings")
    quality_flatline_mostly: float = Field(default=0.99, gt=0, le=1,
                                           description="share of rows that must not be in a stuck run")
    quality_near_zero_kw: float = Field(default=0.01, ge=0, description="AMI power below this |kW| counts as ~0")
    quality_near_zero_mw: float = Field(default=0.001, ge=0, description="SCADA load below this |MW| counts as ~0")
    quality_completeness_min: float = Field(default=0.9, ge=0, le=1,
                                            description="share of expected readings a meter and a bus deliver")
    quality_completeness_mostly: float = Field(default=0.95, gt=0, le=1,
                                               description="share of rows whose meter and bus are complete enough")
    quality_max_gap_s: float = Field(default=300.0, gt=0, description="largest gap between a meter's readings")
    quality_max_seq_gap: int = Field(default=300, ge=1, description="largest seq step (missed readings + 1)")
    quality_scada_max_gap_s: float = Field(default=600.0, gt=0,
                                           description="largest gap between an element's SCADA measurements")

    # AMI analytics (ami_analytics DAG and the API).
    analytics_sag_threshold_pu: float = Field(default=0.9, gt=0, le=1, description="sag: below this share of nominal")
    analytics_sag_min_duration_s: float = Field(default=5.0, gt=0, description="sag: for at least this long")
    analytics_sample_interval_s: float = Field(default=1.0, gt=0, description="AMI sampling interval")
    dr_x_days: int = Field(default=5, ge=1, description="DR baseline: the X highest of")
    dr_y_days: int = Field(default=10, ge=1, description="DR baseline: the Y most recent like days")
    dr_lookback_days: int = Field(default=45, ge=1)
    dr_adjust_hours: float = Field(default=2.0, ge=0, description="same-day adjustment window length")
    dr_adjust_lead_hours: float = Field(default=1.0, ge=0, description="adjustment window ends this long before")
    dr_adjust_cap: float = Field(default=0.2, ge=0, lt=1, description="adjustment factor capped to 1 ± cap")
    dr_holiday_country: str = Field(default="US", description="holiday calendar (python-holidays country code)")

    # Batch loads from the lake's landing prefix (lascopf_daily_ingest DAG).
    landing_prefix: str = "landing/"

    # Re-optimisation trigger (ingest worker → lascopf_dispatch).
    reopt_load_deviation_pct: float = Field(default=5.0, gt=0, description="system load change that triggers")
    reopt_cooldown_s: float = Field(default=300.0, ge=0, description="at most one trigger per this many seconds")
    airflow_api_url: str | None = Field(default=None, description="Airflow REST API; unset = run in-process")
    airflow_username: str | None = None
    airflow_password: SecretStr | None = None

    # `lascopf up`: the whole platform on this workstation, each service on a stable loopback port.
    up_postgres_port: int = Field(default=55432, ge=1, le=65535, description="PostgreSQL (platform and Airflow DBs)")
    up_kafka_port: int = Field(default=59092, ge=1, le=65535, description="Tansu Kafka broker")
    up_s3_port: int = Field(default=59000, ge=1, le=65535, description="moto S3 server (the lake)")
    up_airflow_port: int = Field(default=58080, ge=1, le=65535, description="Airflow api-server (UI and REST)")
    up_prometheus_port: int = Field(default=59090, ge=1, le=65535)
    up_pushgateway_port: int = Field(default=59091, ge=1, le=65535)
    up_ingest_metrics_port: int = Field(default=59108, ge=1, le=65535, description="ingest worker's exporter")
    up_history_days: float = Field(default=9.5, ge=0, description="SCADA history landed on the first start")
    up_meters: int = Field(default=50, ge=1, description="meters the real-time simulator runs")

    # The HTTP API (`lascopf api`).
    api_host: str = Field(default="127.0.0.1", description="bind address (0.0.0.0 in a container)")
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_jwt_secret: SecretStr | None = Field(default=None, description="HS256 secret for bearer tokens; unset = "
                                                                        "API keys only")
    api_jwt_ttl_minutes: int = Field(default=60, ge=1, description="lifetime of tokens `lascopf api token` mints")
    api_pool_size: int = Field(default=16, ge=1, description="database connections the API keeps")
    api_pool_timeout_s: float = Field(default=1.0, gt=0, description="wait this long for a connection, then 503")
    api_max_concurrent_requests: int = Field(default=64, ge=1,
                                             description="HTTP requests in progress; more get 503 at once")
    api_retry_after_s: int = Field(default=1, ge=1, description="Retry-After of a 503 (server busy)")
    api_key_refresh_s: float = Field(default=2.0, gt=0,
                                     description="API keys are re-read this often (a revocation takes effect)")
    api_max_body_bytes: int = Field(default=1_048_576, ge=1, description="larger request bodies get 413")
    api_rate_limit_key: str = Field(default="100/second",
                                    description="requests per API key or token subject (limits syntax)")
    api_rate_limit_anonymous: str = Field(default="30/minute", description="requests without valid credentials "
                                                                          "per client address")
    api_ws_max_total: int = Field(default=1000, ge=1, description="WebSocket streams open at once")
    api_ws_max_per_caller: int = Field(default=10, ge=1, description="WebSocket streams open at once per caller")
    api_ws_ticket_ttl_s: float = Field(default=30.0, gt=0, description="a WebSocket ticket is valid this long, once")
    api_run_queue_max: int = Field(default=16, ge=1, description="queued or running API runs; more get 429")
    api_run_poll_s: float = Field(default=5.0, gt=0, description="Airflow runs the API started: state asked this often")
    api_shutdown_grace_s: float = Field(default=10.0, gt=0, description="open streams get this long on SIGTERM")
    api_statement_timeout_s: float = Field(default=10.0, gt=0, description="a query running longer is cancelled")
    api_stream_poll_s: float = Field(default=1.0, gt=0, description="WebSocket: new readings looked for this often")
    api_stream_backlog_s: float = Field(default=10.0, ge=0, description="WebSocket: readings this old sent first")

    @field_validator("api_jwt_secret", "airflow_password", "s3_secret_key", mode="before")
    @classmethod
    def _empty_secret_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("api_rate_limit_key", "api_rate_limit_anonymous")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        from limits import parse_many

        parse_many(value)  # ValueError names what it could not read
        return value

    @model_validator(mode="after")
    def _no_placeholder_secrets_in_production(self) -> Settings:
        if self.environment == "production":
            problems = placeholder_problems(self)
            if problems:
                raise ValueError("refusing to run in production: " + "; ".join(problems))
        return self

    def sag_rule(self):  # noqa: ANN201 - analytics.sags.SagRule (imported lazily: settings import nothing heavy)
        from data_engineering.analytics.sags import SagRule

        return SagRule(self.analytics_sag_threshold_pu, self.analytics_sag_min_duration_s,
                       self.analytics_sample_interval_s)

    def baseline_rule(self):  # noqa: ANN201 - analytics.dr.BaselineRule
        from data_engineering.analytics.dr import BaselineRule

        return BaselineRule(self.dr_x_days, self.dr_y_days, self.dr_lookback_days, self.dr_adjust_hours,
                            self.dr_adjust_lead_hours, self.dr_adjust_cap, self.dr_holiday_country)

    def topic(self, name: str) -> str:
        return f"{self.kafka_topic_prefix}{name}"

    def dead_letter_topic(self, topic: str) -> str:
        return f"{topic}{self.dead_letter_suffix}"


def placeholder_problems(settings: Settings) -> list[str]:
    """What production must not run with: a placeholder or well-known secret, an empty or well-known
    password in a service URL (or none at all for the database), a short JWT secret."""
    problems = []
    for name, needed in (("s3_secret_key", settings.lake_url.startswith("s3://")),
                         ("airflow_password", settings.airflow_api_url is not None)):
        secret = getattr(settings, name)
        if (needed or secret is not None) and _weak(secret.get_secret_value() if secret else ""):
            problems.append(f"{name.upper()} is unset or a placeholder")
    if settings.database_url and _weak(_database_password(settings.database_url)):
        problems.append("DATABASE_URL has no password or a placeholder one")
    for name in ("airflow_api_url", "pushgateway_url", "s3_endpoint"):
        url = getattr(settings, name)
        parts = urlsplit(url if url and "//" in url else f"//{url}")
        if url and parts.username is not None and _weak(parts.password or ""):
            problems.append(f"{name.upper()} carries an empty or placeholder password")
    if settings.api_jwt_secret is not None:
        jwt_secret = settings.api_jwt_secret.get_secret_value()
        if _weak(jwt_secret) or len(jwt_secret) < MIN_JWT_SECRET_CHARS:
            problems.append(f"API_JWT_SECRET is a placeholder or shorter than {MIN_JWT_SECRET_CHARS} characters")
    return problems


def _weak(secret: str) -> bool:
    return secret.strip().lower() in PLACEHOLDER_SECRETS or secret.lower().startswith("change-me")


def _database_password(url: str) -> str:
    """The password in a libpq URL or key=value string ('' when there is none or it cannot be read)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        return str(conninfo_to_dict(url).get("password") or "")
    except psycopg.ProgrammingError:
        return ""
