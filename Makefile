# The README's first two commands: `make demo` and `make test`.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
STAMP := .lascopf/.installed

COMPOSE ?= docker compose
SERVICE ?=

.PHONY: demo test install bench-ingest lint clean up down logs julia-test

$(STAMP): pyproject.toml scripts/ensure-postgres.sh scripts/ensure-tools.sh
	./scripts/ensure-postgres.sh
	./scripts/ensure-tools.sh
	$(PIP) install --quiet --disable-pip-version-check -e ".[test]"
	@mkdir -p .lascopf && touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PYTHON) -m data_engineering.cli demo

# pytest exits 5 when it collected nothing: that is a failure here, not a pass.
test: $(STAMP)
	@$(PYTHON) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

bench-ingest: $(STAMP)
	$(PYTHON) bench/ingest.py

lint:
	$(PYTHON) -m ruff check data_engineering tests bench airflow_dags grafana

# The compose stack (needs a Docker engine). `.env` is generated once, with random secrets.
.env:
	$(PYTHON) scripts/make-env.py .env

up: .env
	$(COMPOSE) up -d --build
	@echo "Airflow    http://127.0.0.1:8080  (admin / AIRFLOW_ADMIN_PASSWORD in .env)"
	@echo "Grafana    http://127.0.0.1:3000  (admin / GRAFANA_ADMIN_PASSWORD in .env)"
	@echo "MinIO      http://127.0.0.1:9001  (MINIO_ROOT_USER / MINIO_ROOT_PASSWORD in .env)"
	@echo "API docs   http://127.0.0.1:8000/docs  (admin key: make logs SERVICE=api)"
	@echo "Prometheus http://127.0.0.1:9090"

down:
	$(COMPOSE) down

logs:
	$(COMPOSE) logs -f --tail=200 $(SERVICE)

# PowerLASCOPF.jl's Pkg.test() and the Python parity tests, inside the Julia solver image.
julia-test: .env
	$(COMPOSE) run --rm --no-deps -v "$(CURDIR)/tests:/opt/lascopf/tests:ro" --entrypoint bash solver-julia -c \
	  'cd /opt/lascopf && pip install --quiet -e ".[test]" && julia --project=PowerLASCOPF.jl -e "using Pkg; Pkg.test()" \
	   && python -m pytest tests/solver/julia'

clean:
	rm -rf .lascopf
