# The two commands: `make run` and `make test`. Everything else is set up on the way.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
ENT_PORT ?= 5001
PRONOTE_PORT ?= 5002
TELESERVICES_PORT ?= 5003
export IDP_ISSUER ?= http://127.0.0.1:$(PORT)
export DEMO_ENT_URL ?= http://127.0.0.1:$(ENT_PORT)
export DEMO_PRONOTE_URL ?= http://127.0.0.1:$(PRONOTE_PORT)
export DEMO_TELESERVICES_URL ?= http://127.0.0.1:$(TELESERVICES_PORT)
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test test-sqlite test-postgres setup services bench clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(BIN)/.installed
	$(BIN)/idp keys generate
	$(BIN)/idp db upgrade
	$(BIN)/idp demo load

# The IdP (2 gunicorn workers) and the demo relying parties; Ctrl-C stops them all.
run: setup
	@echo "Emails stay local: $(IDP_ISSUER)/dev/outbox (and the worker prints them here)"
	@echo "IdP on $(IDP_ISSUER) -- ENT demo on $(DEMO_ENT_URL) -- PRONOTE demo on $(DEMO_PRONOTE_URL) -- Téléservices (SAML) on $(DEMO_TELESERVICES_URL)"
	@trap 'kill 0' INT TERM EXIT; \
	  export IDP_DEV_OUTBOX=$${IDP_DEV_OUTBOX:-true}; \
	  $(BIN)/idp worker & \
	  $(BIN)/python -m clients.ent --port $(ENT_PORT) & \
	  $(BIN)/python -m clients.pronote --port $(PRONOTE_PORT) & \
	  $(BIN)/python -m clients.teleservices --port $(TELESERVICES_PORT) & \
	  $(BIN)/idp serve --workers 2 --bind 127.0.0.1:$(PORT)

# The whole suite twice: SQLite + embedded store, then PostgreSQL + Redis.
test: $(BIN)/.installed test-sqlite test-postgres

test-sqlite: $(BIN)/.installed
	$(BIN)/python -m pytest tests

test-postgres: $(BIN)/.installed services
	IDP_TEST_DATABASE_URL=$(PG_TEST_URL) IDP_TEST_REDIS_URL=$(REDIS_TEST_URL) \
	  $(BIN)/python -m pytest tests

services:
	IDP_TEST_DATABASE_URL=$(PG_TEST_URL) ./scripts/ensure-services.sh

bench: $(BIN)/.installed services
	$(BIN)/python bench/oidc_bench.py

clean:
	rm -rf $(VENV) var *.egg-info
