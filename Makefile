# Everything a newcomer needs: `make run` and `make test`. Only Python 3.11+ and make required.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Installs come from uv.lock through uv: the uv on the PATH if it is 0.13 or newer, else this
# version, which the first install puts in .venv-tools with pip (or choose one: make UV=...).
UV_VERSION := 0.13.9
TOOLS := .venv-tools
UV_STAMP := $(TOOLS)/.uv-$(UV_VERSION)
ifndef UV
UV := $(shell v=$$(uv --version 2>/dev/null | cut -d' ' -f2); \
	if [ -n "$$v" ] && printf '0.13.0\n%s\n' "$$v" | sort -V -C; then command -v uv; fi)
endif
ifeq ($(UV),)
UV := $(TOOLS)/bin/uv
UV_BOOTSTRAP := $(UV_STAMP)
endif
export UV_PROJECT_ENVIRONMENT := $(VENV)
POSTGRES_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
HOST ?= 127.0.0.1
PORT ?= 8000
SOURCES := app tests migrations bench

.PHONY: install lock lock-check run migrate demo test test-postgres test-s3 test-s3-postgres fuzz test-clients \
	lint format clean bench bench-media bench-variants bench-public bench-neighbours bench-api bench-attack bench-webhooks bench-import bench-request-path bench-instructions

$(UV_STAMP):
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required (make PYTHON=python3.12 ...)" if sys.version_info < (3, 11) else 0)'
	rm -rf $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@touch $@

# The project editable in .venv with the dev extra, exactly as uv.lock says (nothing else).
$(STAMP): pyproject.toml uv.lock | $(UV_BOOTSTRAP)
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required (make PYTHON=python3.12 ...)" if sys.version_info < (3, 11) else 0)'
	$(UV) sync --locked --extra dev --python $(PYTHON) \
		|| { echo "uv sync failed (after a change of dependencies, make lock first)" >&2; exit 1; }
	@touch $(STAMP)

install: $(STAMP)

# After changing dependencies in pyproject.toml: resolve uv.lock again, for every Python >= 3.11
# and platform. Upgrades: make lock LOCK_ARGS=--upgrade (or --upgrade-package NAME).
lock: | $(UV_BOOTSTRAP)
	$(UV) lock $(LOCK_ARGS)

# Fails when uv.lock does not match pyproject.toml (CI runs it).
lock-check: | $(UV_BOOTSTRAP)
	$(UV) lock --check

migrate: install
	$(BIN)/portfolio-api migrate

run: migrate
	$(BIN)/portfolio-api serve --host $(HOST) --port $(PORT)

# Demo portfolios, employers, tags, images, links and meta; a second run creates nothing.
demo: migrate
	$(BIN)/portfolio-api seed --demo

# The suite runs on SQLite unless DATABASE_URL names a PostgreSQL server.
test: install
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install
	DATABASE_URL=$(POSTGRES_URL) $(BIN)/pytest $(PYTEST_ARGS)

# The media tests with the files in an S3 bucket: moto on a loopback port, started by the tests
# (or TEST_S3_ENDPOINT_URL, e.g. the MinIO of `docker compose --profile s3 up`).
test-s3: install
	TEST_STORAGE=s3 $(BIN)/pytest tests/media $(PYTEST_ARGS)

test-s3-postgres: install
	TEST_STORAGE=s3 DATABASE_URL=$(POSTGRES_URL) $(BIN)/pytest tests/media $(PYTEST_ARGS)

# Schemathesis against a live server on PostgreSQL, every operation, all phases: a few minutes
# (tests/test_schemathesis.py, tests/schemathesis.toml). CI runs it too.
fuzz: install
	FUZZ=1 DATABASE_URL=$(POSTGRES_URL) $(BIN)/pytest tests/test_schemathesis.py $(PYTEST_ARGS)

# TypeScript clients generated from a live server's /openapi.json (openapi-typescript with
# openapi-fetch, @hey-api/openapi-ts), type-checked and run against it, and a browser test in
# Debian's Chromium: needs Node.js 20.19+ (tests/clients/README.md). CI runs it, `make test` not.
test-clients: install
	$(BIN)/python tests/clients/run.py

lint: install
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

# Media upload figures against a live server (SQLite, or the PostgreSQL server in DATABASE_URL).
bench-media: install
	$(BIN)/python -m bench.media_upload

# WebP/AVIF variants of an HD photo: time against a full decode, bytes against the JPEG thumbnails.
bench-variants: install
	$(BIN)/python -m bench.variants

# The public API against a hand-written reference (Starlette + asyncpg), warm, 304 and cold; wrk.
bench-public: install
	$(BIN)/python -m bench.public_api

# Upload time beside one CPU-bound program per core, for each CPU_WORK_PRIORITY.
bench-neighbours: install
	$(BIN)/python -m bench.busy_neighbours

# A login flood beside a staff reader, and 8 concurrent uploads at the pixel limit (peak memory).
bench-attack: install
	$(BIN)/python -m bench.attack

# Webhook deliveries: events/s of one `portfolio-api worker` process into a receiver on loopback
# (1 and 4 endpoints), and commit-to-delivery latency of writes through the API; PostgreSQL
# unless DATABASE_URL=sqlite. Writes with and without change events (not run here):
# $(BIN)/python -m bench.webhooks --compare-with b261c17
bench-webhooks: install
	$(BIN)/python -m bench.webhooks

# `portfolio-api import-original` from the stand-in original (its own process) over loopback:
# 200 portfolios, 10 links each, 400 JPEGs of about 300 KB. Wall time, objects/s, MB/s, stages
# and the share of thumbnails, then a re-run that finds nothing new. SQLite unless DATABASE_URL
# names a PostgreSQL server; sizes: $(BIN)/python -m bench.import_original --help
bench-import: install
	$(BIN)/python -m bench.import_original

# Requests/s, p50, p99 and SQL statements per request for the main scenarios, on PostgreSQL
# with seeded data (needs wrk: apt-get install wrk), with a bare FastAPI /healthz and the
# hand-written list links measured in the same run as references. `bench-api` is the same.
bench bench-api: install
	$(BIN)/python -m bench.api_load

# The fixed cost of a request in process (no network): microseconds per scenario, or a
# cProfile by package (make bench-request-path ARGS="--profile list").
bench-request-path: install
	$(BIN)/python -m bench.request_path $(ARGS) > /dev/null

# The same requests' instructions, counted by callgrind (needs valgrind): figures that repeat to
# the thousand, to compare code (make bench-instructions ARGS="--database-url postgresql+...").
bench-instructions: install
	$(BIN)/python -m bench.instructions $(ARGS)

format: install
	$(BIN)/ruff format $(SOURCES)
	$(BIN)/ruff check --fix $(SOURCES)

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache
