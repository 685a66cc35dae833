# Receptor Planner: `make demo` and `make test` install what they need, idempotently.
#
# The venv lives outside the checkout because the database server (OS user
# postgres) imports from it, and a checkout may sit in a 0700 home directory.
# docker/install.sh installs the server's Debian packages and the venv, here
# and in Dockerfile.postgres alike. `make install` then installs the project itself into the venv,
# editable, and links its `planner` command into BIN_DIR.

VENV ?= /opt/receptor-planner/venv
NPM_DIR ?= /opt/receptor-planner/npm
BIN_DIR ?= /usr/local/bin
PY := $(VENV)/bin/python
PLANNER := PYTHONPATH=$(CURDIR)/plpython $(PY) -m receptor_planner_tools
INSTALL := sh docker/install.sh
# Beyond the server's packages, the tests run pgTAP files with pg_prove and render the report in a real browser.
TEST_PACKAGES := libtap-parser-sourcehandler-pgtap-perl chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
DEPS_STAMP := $(VENV)/.receptor-planner-$(shell cat pyproject.toml requirements.lock | md5sum | cut -c1-12)
# The editable install points at this checkout: another checkout (or pyproject) installs it again.
PROJECT_STAMP := $(VENV)/.receptor-planner-project-$(shell echo '$(CURDIR)' | cat - pyproject.toml | md5sum | cut -c1-12)
# The Supabase CLI and Deno, at the versions of supabase/package-lock.json.
TOOLS_STAMP := $(NPM_DIR)/.receptor-planner-$(shell cat supabase/package.json supabase/package-lock.json | md5sum | cut -c1-12)

.PHONY: install system venv project tools lock migrations demo test bench db-start db-stop clean

install: system venv project

# Debian packages, installed only when one is missing.
system:
	@$(INSTALL) system $(TEST_PACKAGES)

# The venv, built with Debian's python3.11 (the interpreter plpython3u embeds), with the test extras
# and the build system (the project is built in the venv: below, and by tests/test_packaging.py).
venv: system $(DEPS_STAMP)

$(DEPS_STAMP): pyproject.toml requirements.lock
	$(INSTALL) venv $(VENV) pyproject.toml test build
	@$(SUDO) rm -f $(VENV)/.receptor-planner-* && $(SUDO) touch $@

# The project in the venv, editable: $(VENV)/bin/planner runs this checkout's code (as make's own
# PYTHONPATH=plpython does), linked as $(BIN_DIR)/planner. The database server never imports it: it
# imports the core from its staged copy (receptor_planner_tools.cluster.stage_python).
project: venv $(PROJECT_STAMP)
	@[ "$$(readlink $(BIN_DIR)/planner)" = "$(VENV)/bin/planner" ] || { \
	  if [ -e $(BIN_DIR)/planner ] && [ ! -L $(BIN_DIR)/planner ]; then \
	    echo "$(BIN_DIR)/planner exists and is not a link: remove it, or make BIN_DIR=..." >&2; exit 1; fi; \
	  $(SUDO) ln -sfn $(VENV)/bin/planner $(BIN_DIR)/planner && echo "linked $(BIN_DIR)/planner -> $(VENV)/bin/planner"; }

$(PROJECT_STAMP): $(DEPS_STAMP)
	$(INSTALL) project $(VENV) $(CURDIR)
	@$(SUDO) rm -f $(VENV)/.receptor-planner-project-* && $(SUDO) touch $@

# supabase and deno under $(NPM_DIR)/node_modules/.bin, exactly as locked; npm from Debian if absent.
tools: $(TOOLS_STAMP)

$(TOOLS_STAMP): supabase/package.json supabase/package-lock.json
	@command -v npm >/dev/null || $(INSTALL) packages nodejs npm ca-certificates
	@$(SUDO) mkdir -p $(NPM_DIR)
	$(SUDO) cp supabase/package.json supabase/package-lock.json $(NPM_DIR)/
	cd $(NPM_DIR) && $(SUDO) npm ci --no-audit --no-fund --loglevel=error
	@$(SUDO) rm -f $(NPM_DIR)/.receptor-planner-* && $(SUDO) touch $@

# requirements.lock from pyproject.toml, as pip resolves it today: run after changing a dependency.
lock:
	sh docker/install.sh lock pyproject.toml

# supabase/migrations/ from sql/: run after every change in sql/ (a test fails on drift).
migrations:
	python3 supabase/generate_migrations.py

demo: install
	$(PLANNER) demo

test: install tools
	$(PY) -m pytest -q tests

# The pure-Python tests: no database server, no Supabase CLI or Deno, nothing slow (see tests/conftest.py).
test-quick: venv
	$(PY) -m pytest -q -m "not database and not slow" tests

bench: install
	$(PLANNER) bench

db-start: install
	$(PLANNER) db start

db-stop:
	$(PLANNER) db stop

clean: db-stop
	rm -rf .planner
