# The two commands: `make run` and `make test`. Everything else is set up on the way.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
ENT_PORT ?= 5001
PRONOTE_PORT ?= 5002
TELESERVICES_PORT ?= 5003
FRANCECONNECT_PORT ?= 5004
export IDP_ISSUER ?= http://127.0.0.1:$(PORT)
export DEMO_ENT_URL ?= http://127.0.0.1:$(ENT_PORT)
export DEMO_PRONOTE_URL ?= http://127.0.0.1:$(PRONOTE_PORT)
export DEMO_TELESERVICES_URL ?= http://127.0.0.1:$(TELESERVICES_PORT)
# `make run`: the IdP signs parents in with the FranceConnect stand-in (clients/franceconnect.py)
# unless IDP_FRANCECONNECT_* already point elsewhere (the integration sandbox).
DEMO_FRANCECONNECT_URL ?= http://127.0.0.1:$(FRANCECONNECT_PORT)
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test lint lock check-lock test-sqlite test-postgres setup services interop-deps cluster bench clean e2e-deps screenshots translations

# Installs exactly what requirements.lock pins, hashes checked (`make lock` refreshes it
# after a change to the dependencies in pyproject.toml; a stale lock stops here, one line).
LOCK := requirements.lock
$(BIN)/.installed: pyproject.toml $(LOCK)
	@$(PY) scripts/check_lock.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes --no-deps -r $(LOCK)
	# compat: the checkout on sys.path by a .pth (after PYTHONPATH), not an import hook
	# that wins over it, so bench/side_by_side.py can run another tree's idp (PYTHONPATH).
	$(BIN)/pip install -q --no-deps -e . --config-settings editable_mode=compat
	touch $@

check-lock:
	@$(PY) scripts/check_lock.py

# Resolve pyproject.toml's dependencies (and the test extra) into requirements.lock with
# hashes, keeping the versions already locked unless pyproject.toml excludes them (uv).
lock:
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --extra test --generate-hashes --python-version 3.11 \
	  --quiet --custom-compile-command "make lock" -o $(LOCK)
	$(PY) scripts/check_lock.py --stamp

# English catalogue: compiled when the .po changes (the .mo is committed too, so a
# deployment built with pip alone has it; tests/unit/test_translations.py checks it is fresh).
MO := translations/en/LC_MESSAGES/messages.mo
# Compiled aside and moved in only when the bytes differ, so `make run` on a fresh clone
# leaves the committed .mo (and the work tree) untouched.
$(MO): translations/en/LC_MESSAGES/messages.po | $(BIN)/.installed
	@$(BIN)/pybabel compile -i translations/en/LC_MESSAGES/messages.po -o $(MO).new -l en >/dev/null
	@if cmp -s $(MO).new $(MO); then rm $(MO).new; touch $(MO); else mv $(MO).new $(MO); fi

# After adding or changing French strings: extract them, update the English .po (then
# translate its empty msgstr and run this again to compile), and write the French
# catalogue of plural forms (scripts/french_plurals.py: French rules, 0 is singular).
translations: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  --project "Connexion Scolarité" -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -l en --no-fuzzy-matching -w 100
	$(BIN)/python scripts/french_plurals.py translations/messages.pot
	$(BIN)/pybabel compile -d translations -l en --statistics

# Browser tests (tests/e2e): Debian's Chromium, and axe-core from npm (package-lock.json).
e2e-deps: node_modules/.installed
	@test -x /usr/bin/chromium || { echo "Installing Chromium for tests/e2e"; \
	  $$(test $$(id -u) -eq 0 || echo sudo) apt-get update && \
	  $$(test $$(id -u) -eq 0 || echo sudo) apt-get install -y chromium; }
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "Installing npm for axe-core"; \
	  $$(test $$(id -u) -eq 0 || echo sudo) apt-get update && \
	  $$(test $$(id -u) -eq 0 || echo sudo) apt-get install -y npm; }
	npm ci --no-audit --no-fund
	touch $@

setup: check-lock $(BIN)/.installed $(MO)
	$(BIN)/idp keys generate
	$(BIN)/idp db upgrade
	$(BIN)/idp demo load

# The IdP (2 gunicorn workers) and the demo relying parties; Ctrl-C stops them all.
run: setup
	@echo "Emails stay local: $(IDP_ISSUER)/dev/outbox (and the worker prints them here)"
	@echo "IdP on $(IDP_ISSUER) -- ENT demo on $(DEMO_ENT_URL) -- PRONOTE demo on $(DEMO_PRONOTE_URL) -- Téléservices (SAML) on $(DEMO_TELESERVICES_URL) -- FranceConnect stand-in on $(DEMO_FRANCECONNECT_URL)"
	@trap 'kill 0' INT TERM EXIT; \
	  export IDP_DEV_OUTBOX=$${IDP_DEV_OUTBOX:-true}; \
	  export IDP_FRANCECONNECT_ENABLED=$${IDP_FRANCECONNECT_ENABLED:-true}; \
	  export IDP_FRANCECONNECT_DISCOVERY_URL=$${IDP_FRANCECONNECT_DISCOVERY_URL:-$(DEMO_FRANCECONNECT_URL)/api/v2/.well-known/openid-configuration}; \
	  export IDP_FRANCECONNECT_CLIENT_ID=$${IDP_FRANCECONNECT_CLIENT_ID:-demo-idp}; \
	  export IDP_FRANCECONNECT_CLIENT_SECRET=$${IDP_FRANCECONNECT_CLIENT_SECRET:-demo-franceconnect-secret-not-for-production}; \
	  FC_REDIRECT_PREFIX=$(IDP_ISSUER) $(BIN)/python -m clients.franceconnect --port $(FRANCECONNECT_PORT) & \
	  $(BIN)/idp worker & \
	  $(BIN)/python -m clients.ent --port $(ENT_PORT) & \
	  $(BIN)/python -m clients.pronote --port $(PRONOTE_PORT) & \
	  $(BIN)/python -m clients.teleservices --port $(TELESERVICES_PORT) & \
	  $(BIN)/idp serve --workers 2 --bind 127.0.0.1:$(PORT)

# Two `idp serve` nodes sharing only PostgreSQL, Redis and the environment, an `idp worker`,
# and nginx in front on CLUSTER_PORT (nodes on the next two ports); Ctrl-C stops them all.
# IDP_DATABASE_URL and IDP_REDIS_URL are honoured, else the local servers (README "Several nodes").
CLUSTER_PORT ?= 8000
cluster: $(BIN)/.installed $(MO)
	@command -v nginx >/dev/null || { echo "Installing nginx for the cluster"; \
	  $$(test $$(id -u) -eq 0 || echo sudo) apt-get install -y nginx-light; }
	@if [ -z "$$IDP_DATABASE_URL$$IDP_REDIS_URL$$IDP_REDIS_SENTINELS" ]; then \
	  IDP_TEST_DATABASE_URL=$(PG_TEST_URL) ./scripts/ensure-services.sh; fi
	$(BIN)/python scripts/cluster.py --port $(CLUSTER_PORT)

# The whole suite twice: SQLite + embedded store, then PostgreSQL + Redis.
test: check-lock $(BIN)/.installed test-sqlite test-postgres

# Import contracts (pyproject.toml [tool.importlinter]): layers, no cycle, journeys free of
# the protocol adapters. Checked first: a broken one stops the tests.
lint: $(BIN)/.installed
	$(BIN)/lint-imports --no-cache

test-sqlite: $(BIN)/.installed $(MO) e2e-deps interop-deps lint
	$(BIN)/python -m pytest tests

test-postgres: $(BIN)/.installed $(MO) e2e-deps interop-deps services
	IDP_TEST_DATABASE_URL=$(PG_TEST_URL) IDP_TEST_REDIS_URL=$(REDIS_TEST_URL) \
	  $(BIN)/python -m pytest tests

services:
	IDP_TEST_DATABASE_URL=$(PG_TEST_URL) ./scripts/ensure-services.sh

# Served tests: the failover tests (tests/*/test_sentinel_*.py) start their own Redis master,
# replica and sentinel on free ports (Debian's redis-sentinel; the machine's Redis is never
# touched); the cluster and proxy tests put nginx in front of the IdP.
interop-deps:
	@command -v redis-sentinel >/dev/null || { echo "Installing redis-sentinel for the failover tests"; \
	  $$(test $$(id -u) -eq 0 || echo sudo) apt-get install -y redis-sentinel; }
	@command -v nginx >/dev/null || { echo "Installing nginx for the cluster tests"; \
	  $$(test $$(id -u) -eq 0 || echo sudo) apt-get install -y nginx-light; }

bench: $(BIN)/.installed services
	command -v wrk >/dev/null || apt-get install -y wrk  # scenario (a)'s load generator
	command -v valgrind >/dev/null || apt-get install -y valgrind  # bench/instructions.py
	$(BIN)/python bench/oidc_bench.py

# docs/screenshots/*.png: the main screens at phone and desktop width (served processes).
screenshots: $(BIN)/.installed $(MO) e2e-deps
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) var *.egg-info
