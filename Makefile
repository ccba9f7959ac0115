# `make run` and `make test` work on a fresh machine with Python 3.11 and Node 20.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APP := web/app
DIST := web/dist/index.html
HOST ?= 127.0.0.1
PORT ?= 8000
export REFERLOOP_ENV ?= development

.PHONY: run test test-lanes install dashboards migrate seed serve lint test-api test-sqlite test-postgres test-browser chromium bench bench-scaleout schema docs clean

run: install dashboards migrate seed serve

test: test-lanes

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

dashboards: $(DIST)

$(DIST): $(APP)/package.json $(APP)/package-lock.json $(shell find $(APP)/src $(APP)/index.html $(APP)/vite.config.* -type f 2>/dev/null)
	cd $(APP) && npm ci --no-audit --no-fund --loglevel=error && npm run build

migrate: install
	$(BIN)/referloop migrate

seed: install
	$(BIN)/referloop seed --if-empty

serve: install
	HOST=$(HOST) PORT=$(PORT) $(BIN)/referloop serve --host $(HOST) --port $(PORT)

# Browser tests drive Debian's Chromium; Playwright cannot download its own here.
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Types and the shape of the imports: mypy --strict, and import-linter's contracts in pyproject.toml.
lint: install
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# The whole suite in two lanes side by side (tests/lanes.sh): the types, the imports and the API
# suite on PostgreSQL and Redis in one; the API suite on SQLite with the in-memory bus, then the
# dashboards in Chromium, in the other.
test-lanes: install dashboards chromium
	bash tests/lanes.sh "$(MAKE) --no-print-directory lint test-postgres" "$(MAKE) --no-print-directory test-sqlite test-browser"

# The same API suite twice: the embedded default (SQLite, in-memory bus), then PostgreSQL and Redis.
test-api: test-sqlite test-postgres

test-sqlite: install
	$(BIN)/pytest tests --ignore=tests/browser -q --durations=15

# A service that cannot start stops make here, with its reason; once started, the servers are
# stopped and their directory removed however pytest ends, Ctrl-C included.
test-postgres: install
	bash tests/services.sh start
	trap 'bash tests/services.sh stop' EXIT; trap 'exit 130' INT TERM; \
	TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:$${TEST_PG_PORT:-54329} \
	TEST_BROADCAST_URL=redis://127.0.0.1:$${TEST_REDIS_PORT:-63799} \
	  $(BIN)/pytest tests --ignore=tests/browser -q --durations=15

test-browser: install dashboards chromium
	@if [ -d tests/browser ]; then $(BIN)/pytest tests/browser -q -p no:asyncio; fi

bench: install
	$(BIN)/python -m bench.fanout
	$(BIN)/python -m bench.live_and_inbound
	$(BIN)/python -m bench.notifications
	$(BIN)/python -m bench.coordinated_entry
	$(BIN)/python -m bench.performance
	$(BIN)/python -m bench.case_fanout
	$(BIN)/python -m bench.hostile
	$(MAKE) bench-scaleout

# Writes per second on both databases, and two workers with Redis beside one process, on the
# suite's throwaway PostgreSQL and Redis (their sections of bench/results.md).
bench-scaleout: install
	bash tests/services.sh start
	trap 'bash tests/services.sh stop' EXIT; trap 'exit 130' INT TERM; \
	PG=postgresql+asyncpg://postgres@127.0.0.1:$${TEST_PG_PORT:-54329}; \
	$(BIN)/python -m bench.writes --postgres $$PG && \
	$(BIN)/python -m bench.scaleout --postgres $$PG --redis redis://127.0.0.1:$${TEST_REDIS_PORT:-63799}

schema: install
	$(BIN)/python -c "from schema import schema; open('schema.graphql', 'w').write(str(schema) + '\n')"

docs: install
	$(BIN)/referloop docs

clean:
	rm -rf $(VENV) web/dist $(APP)/node_modules
