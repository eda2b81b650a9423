# The Python platform image: simulator, ingest worker (and, later, API and Airflow base).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY data_engineering ./data_engineering
COPY sql ./sql
RUN pip install --no-cache-dir . && useradd --system --uid 10001 lascopf
USER lascopf
ENTRYPOINT ["lascopf"]
CMD ["--help"]
