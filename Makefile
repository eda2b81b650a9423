# The README's first two commands: `make demo` and `make test`.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
STAMP := .lascopf/.installed

.PHONY: demo test install bench-ingest lint clean

$(STAMP): pyproject.toml scripts/ensure-postgres.sh
	./scripts/ensure-postgres.sh
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
	$(PYTHON) -m ruff check data_engineering tests bench

clean:
	rm -rf .lascopf
