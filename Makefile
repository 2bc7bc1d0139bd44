# The commands everyone runs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen
SERVICES := ingest inbox customers orders

.PHONY: help install dev test test-fast test-integration lint fmt schemas token clean bench up down

help: ## list the commands
	@grep -E "^[a-z-]+:.*## " $(MAKEFILE_LIST) | awk -F ":.*## " "{printf \"  make %-17s %s\\n\", \$$1, \$$2}"

install: ## install what is missing: uv, the Python workspace, the Kafka jars, the web client, Chromium
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	@$(UV) sync --frozen --quiet
	@$(RUN) python -m devtools.stack fetch
	@$(MAKE) --no-print-directory web/dist/index.html chromium

# The web client: npm ci when the lock file changed, a build when a source changed (else nothing).
WEB_SOURCES := $(shell find web/src web/index.html web/vite.config.ts web/tsconfig.json -type f 2>/dev/null)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

web/node_modules/.package-lock.json: web/package-lock.json web/package.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build --silent

.PHONY: chromium
chromium: # the browser tests drive Debian's Chromium (Playwright never downloads one)
	@test -x /usr/bin/chromium || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

dev: install ## run Kafka, the store and every service locally (Ctrl-C stops all)
	@$(RUN) python -m devtools.dev

test: install lint ## the whole suite: pure, handler/API, integration and e2e on real Kafka and store
	@$(RUN) pytest

test-fast: install ## only the tests that need no broker or store
	@$(RUN) pytest -m "not integration and not e2e"

test-integration: install ## only the tests on the real broker and store
	@$(RUN) pytest -m "integration or e2e"

.PHONY: test-ferretdb
test-ferretdb: install ## the integration and e2e tests on FerretDB (SQLite) as the store
	@env -u MONGODB_URL HANOUT_STORE=ferretdb $(RUN) pytest -m "integration or e2e or ferretdb"

lint: ## ruff and mypy --strict
	@$(RUN) ruff check .
	@$(RUN) ruff format --check .
	@$(RUN) mypy shared/hanout_shared $(foreach s,$(SERVICES),services/$(s)/$(s)) \
		services/ingest/simulator devtools bench
	@$(RUN) python -m devtools.schemas

fmt: ## format and fix what ruff can
	@$(RUN) ruff check --fix .
	@$(RUN) ruff format .

schemas: ## rewrite the JSON Schema snapshots of the event contracts
	@$(RUN) python -m devtools.schemas --write

token: ## mint a development token: make token AGENT=a-1 WORKSPACE=demo ROLE=admin
	@$(RUN) hanout-token --agent "$${AGENT:-agent-1}" --workspace "$${WORKSPACE:-demo}" --role "$${ROLE:-agent}"

bench: install ## every benchmark on both stores, FerretDB at smaller sizes (long): bench/results/<date>.md
	@$(RUN) python -m bench.report $(BENCH_ARGS)

clean: ## remove local data (Kafka and store files of make dev) and caches
	rm -rf .data .pytest_cache .mypy_cache .ruff_cache artifacts

up: ## docker compose: the whole stack in containers (needs Docker)
	docker compose up --build -d

down: ## docker compose: stop the containers
	docker compose down
