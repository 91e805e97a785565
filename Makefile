# Two commands a new user needs (see README Quickstart):
#   make up     install everything into .venv and start the product on its embedded default
#   make test   install everything into .venv and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test lint install bench clean web

# The web UI (web/): npm ci from the committed lock file, then the Vite build into web/dist, which
# the API serves under /ui/. Rebuilt only when the lock file or a source changes. The Carbon packages'
# install step would start IBM's telemetry reporter and swagger-ui-dist's Scarf step its analytics (both
# phone home): plants are air-gapped, so both are off.
NPM ?= npm
WEB_BUILT := web/dist/index.html
WEB_SOURCES := $(shell find web/src web/scripts -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json web/package.json

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && IBM_TELEMETRY_DISABLED=true SCARF_ANALYTICS=false $(NPM) ci --no-audit --no-fund

$(WEB_BUILT): web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && $(NPM) run build
	touch $(WEB_BUILT)

web: $(WEB_BUILT)

install: $(STAMP) $(WEB_BUILT)

up: $(STAMP) $(WEB_BUILT)
	$(BIN)/mom up

test: $(STAMP) $(WEB_BUILT)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy mom bpmn workflows activities connectors api worker.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache web/dist web/node_modules
