# syntax=docker/dockerfile:1
# The Python platform images, from one source stage:
#   platform  API, ingest worker, simulator, `lascopf db migrate` (python:3.11-slim, non-root)
#   airflow   the official Airflow image with the platform installed: api-server, scheduler,
#             dag-processor and Celery workers (and the base of Dockerfile.julia's solver)
# The package is installed editable from /opt/lascopf, so sql/ and airflow_dags/ sit beside it and the
# compose file can mount the working tree over the copies here.
ARG AIRFLOW_VERSION=3.3.2

FROM scratch AS source
COPY pyproject.toml README.md /opt/lascopf/
COPY data_engineering /opt/lascopf/data_engineering
COPY sql /opt/lascopf/sql
COPY airflow_dags /opt/lascopf/airflow_dags

FROM python:3.11.11-slim-bookworm AS platform
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=source /opt/lascopf /opt/lascopf
RUN pip install --no-cache-dir -e /opt/lascopf && useradd --system --uid 10001 lascopf
USER lascopf
WORKDIR /opt/lascopf
ENTRYPOINT ["lascopf"]
CMD ["--help"]

FROM apache/airflow:${AIRFLOW_VERSION}-python3.11 AS airflow
ARG AIRFLOW_VERSION
ENV PYTHONDONTWRITEBYTECODE=1
COPY --from=source --chown=airflow:0 /opt/lascopf /opt/lascopf
# Pinning apache-airflow keeps pip from moving the image's Airflow while it adds the platform.
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -e /opt/lascopf \
    && mkdir -p /opt/airflow/config
