# The commands everyone runs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen
SERVICES := ingest inbox customers orders

.PHONY: help install deps chromium nginx dev test test-fast test-web test-integration lint fmt schemas token clean \
	bench up down

help: ## list the commands
	@grep -E "^[a-z-]+:.*## " $(MAKEFILE_LIST) | awk -F ":.*## " "{printf \"  make %-17s %s\\n\", \$$1, \$$2}"

install: deps chromium nginx ## install everything missing: what `make deps` does, Chromium and nginx

deps: ## install what `make dev` needs, if missing: uv, the workspace, Kafka jars, the store, web client
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	@$(UV) sync --frozen --quiet
	@$(RUN) python -m devtools.stack fetch
	@$(MAKE) --no-print-directory web/dist/index.html

# The web client: npm ci when the lock file changed, a build when a source changed (else nothing).
WEB_SOURCES := $(shell find web/src web/index.html web/vite.config.ts web/tsconfig.json -type f 2>/dev/null)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

web/node_modules/.package-lock.json: web/package-lock.json web/package.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build --silent

# The browser tests drive Debian's Chromium (Playwright never downloads one); nothing else needs it.
chromium: ## install Debian's Chromium for the browser tests, if missing (apt-get, sudo)
	@test -x /usr/bin/chromium || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

# deploy/nginx.conf is tested by a real nginx: Debian's, unpacked into .cache (never installed as a
# system service, so nothing listens on port 80).
NGINX_DIR := .cache/nginx
nginx: $(NGINX_DIR)/usr/sbin/nginx ## unpack Debian's nginx into .cache for the gateway's test, if missing

$(NGINX_DIR)/usr/sbin/nginx:
	@mkdir -p $(NGINX_DIR)/debs
	@cd $(NGINX_DIR)/debs && (apt-get download -qq nginx nginx-common 2>/dev/null || \
		($(SUDO) apt-get update -qq && apt-get download -qq nginx nginx-common))
	@for deb in $(NGINX_DIR)/debs/*.deb; do dpkg-deb -x "$$deb" $(NGINX_DIR); done
	@rm -rf $(NGINX_DIR)/debs

dev: deps ## run Kafka, the store, every service and the web client, seeded (Ctrl-C stops)
	@$(RUN) python -m devtools.dev

test: install lint test-web ## the whole suite: pure, handler/API, integration and e2e on real Kafka and store
	@$(RUN) pytest

test-fast: deps test-web ## only the tests that need no broker or store
	@$(RUN) pytest -m "not integration and not e2e"

test-web: deps ## the web client's unit and component tests (vitest, Testing Library on jsdom)
	cd web && npm test --silent

test-integration: install ## only the tests on the real broker and store
	@$(RUN) pytest -m "integration or e2e"

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

bench: deps ## every benchmark on the local store (long): bench/results/<date>.md
	@$(RUN) python -m bench.report $(BENCH_ARGS)

clean: ## remove local data (Kafka and store files of make dev) and caches
	rm -rf .data .pytest_cache .mypy_cache .ruff_cache artifacts

up: ## docker compose: the whole stack in containers (needs Docker)
	docker compose up --build -d

down: ## docker compose: stop the containers
	docker compose down
