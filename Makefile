# Two commands matter: `make run` serves the API, `make test` runs every check.
# Both create the virtualenv, install what is missing and bring the local services up.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
INSTANCES ?= 1
STAGE ?= local
LAMBDA_WHEELS := .local/lambda-wheels

.PHONY: run test stop services status migrate lint typecheck pytest clean browser token screenshots

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q "pip>=24,<26.3"
	$(BIN)/pip install -q -r requirements-dev.txt
	@# The Lambda wheels `chalice package` vendors, kept here so that packaging needs no network
	@# (infra/stacks.py points chalice's pip at them): the host's, then the manylinux2014 ones.
	rm -rf $(LAMBDA_WHEELS) && mkdir -p $(LAMBDA_WHEELS)
	$(BIN)/pip download -q -r requirements.txt -d $(LAMBDA_WHEELS)
	$(BIN)/pip download -q -r requirements.txt -d $(LAMBDA_WHEELS) --only-binary=:all: \
	  --platform manylinux2014_x86_64 --implementation cp --python-version 3.11 --abi cp311
	sha256sum requirements.txt | cut -d' ' -f1 > $(LAMBDA_WHEELS)/.complete
	@touch $@

services: $(BIN)/.installed
	$(BIN)/python -m infra.services up

status: $(BIN)/.installed
	$(BIN)/python -m infra.services status

migrate: services
	$(BIN)/python -m chalicelib.jobs.migrate

run: migrate
	$(BIN)/python -m infra.run_local --instances $(INSTANCES) --port $(PORT) --stage $(STAGE)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy chalicelib

# Debian's Chromium and its driver, for the test that renders /api-docs in a real browser.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

token: $(BIN)/.installed
	@$(BIN)/python -m infra.dev_token $(USER) $(if $(ADMIN),--admin) --stage $(if $(TOKEN_STAGE),$(TOKEN_STAGE),local)

test: services browser lint typecheck
	$(BIN)/pytest --ignore=tests/localstack $(PYTEST_ARGS)
	# The same app through LocalStack without Docker (API Gateway, Lambda, EventBridge), in a
	# pytest run of its own: it brings its stack up and points the session at that stack's database.
	$(BIN)/pytest tests/localstack $(PYTEST_ARGS)

# The README's pictures of the web pages (docs/screenshots/), taken by the browser tests that
# `make test` runs (which keep theirs in .local/screenshots).
screenshots: services browser
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(BIN)/pytest tests/browser -q -k "full_buy_flow or mobile_layout or staff_create"

stop:
	@test -x $(BIN)/python && $(BIN)/python -m infra.localstack.stack down || true
	@test -x $(BIN)/python && $(BIN)/python -m infra.services down || true

clean: stop
	rm -rf .local $(VENV)

# ---------------------------------------------------------------------------------------
# Deployment through CloudFormation change sets (infra/stacks.py, docs/deploy.md).
# `make deploy STAGE=prod` deploys the artifacts, data and app stacks to AWS and prints the API
# URL; `make destroy STAGE=prod` removes them. With AWS_ENDPOINT_URL=http://host:4566 the same
# commands deploy the app stack to LocalStack (no data stack there: the connection settings
# come from DATABASE_URL, REDIS_URL and KAFKA_BOOTSTRAP_SERVERS). DEPLOY_ARGS adds options, e.g.
# DEPLOY_ARGS="--parameter AlarmTopicArn=arn:aws:sns:... --data-parameter DeletionProtection=false".
LOCALSTACK_URL ?= http://127.0.0.1:$(or $(CINEMA_LOCALSTACK_PORT),4566)
DEPLOY_ARGS ?=
AWS_ENDPOINT_URL ?=
STACKS := $(BIN)/python -m infra.stacks
ENDPOINT_FLAG = $(if $(AWS_ENDPOINT_URL),--endpoint-url $(AWS_ENDPOINT_URL))

.PHONY: deploy-local destroy-local localstack-url deploy destroy localstack localstack-down localstack-test

# With `docker compose up -d --wait`, LocalStack runs each Lambda in a container on the compose
# network, so the functions reach the services by their compose names, not 127.0.0.1.
LOCALSTACK_CONNECTIONS ?= --database-url postgresql://cinema:cinema@postgres:5432/cinema \
	--redis-url redis://redis:6379/0 --kafka-bootstrap-servers kafka:9092

# The local stage's app stack on the Docker compose LocalStack, then a smoke request through its API Gateway.
deploy-local: $(BIN)/.installed
	$(STACKS) deploy --stage local --endpoint-url $(LOCALSTACK_URL) $(LOCALSTACK_CONNECTIONS) $(DEPLOY_ARGS)
	curl -fsS "$$($(STACKS) url --stage local --endpoint-url $(LOCALSTACK_URL))/sessions" && echo

destroy-local: $(BIN)/.installed
	$(STACKS) destroy --stage local --endpoint-url $(LOCALSTACK_URL)

# Prints only the URL of the local stage on LocalStack, however LocalStack runs (Docker, or
# `make localstack` without it): curl "$$(make -s localstack-url)/sessions"
localstack-url: $(BIN)/.installed
	@$(STACKS) url --stage local --endpoint-url $(LOCALSTACK_URL)

# LocalStack without Docker (docs/localstack.md): Lambda handlers run as host processes.
# Installs LocalStack in .local/localstack-venv, brings up the services and LocalStack, deploys
# the local stage's app stack by CloudFormation and prints its URL (only the URL on stdout).
# `make localstack-down` stops it.
localstack: $(BIN)/.installed
	@$(BIN)/python -m infra.localstack.stack up

localstack-down:
	@test -x $(BIN)/python && $(BIN)/python -m infra.localstack.stack down || true

# Only the end-to-end suite through LocalStack's API Gateway, EventBridge and Lambda.
localstack-test: localstack
	$(BIN)/pytest tests/localstack $(PYTEST_ARGS)

deploy: $(BIN)/.installed
	$(STACKS) deploy --stage $(STAGE) $(ENDPOINT_FLAG) $(DEPLOY_ARGS)

destroy: $(BIN)/.installed
	$(STACKS) destroy --stage $(STAGE) $(ENDPOINT_FLAG)

# ---------------------------------------------------------------------------------------
# Benchmarks and fault injection (bench/, docs/perf/REPORT.md). Both start what they need
# (services, migrations, 4 API instances with workers on ports 18000-18003) and stop the
# instances at the end. `make bench`: a few minutes, ends with one JSON line. `make bench-full`:
# every scenario, chaos faults, writes docs/perf/REPORT.md, results.json and the PNG plot.
.PHONY: bench bench-full

bench: $(BIN)/.installed
	$(BIN)/python -m bench quick

bench-full: $(BIN)/.installed
	$(BIN)/python -m bench full
