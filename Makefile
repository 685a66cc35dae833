# Receptor Planner: `make demo` and `make test` install what they need, idempotently.
#
# The venv lives outside the checkout because the database server (OS user
# postgres) imports from it, and a checkout may sit in a 0700 home directory.

VENV ?= /opt/receptor-planner/venv
PY := $(VENV)/bin/python
PLANNER := PYTHONPATH=$(CURDIR)/plpython $(PY) -m receptor_planner
DEBIAN_PACKAGES := python3.11 python3.11-venv postgresql-15 postgresql-plpython3-15 \
	postgresql-15-cron postgresql-15-wal2json postgresql-15-pgtap
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
DEPS_STAMP := $(VENV)/.receptor-planner-$(shell cat pyproject.toml | md5sum | cut -c1-12)

.PHONY: install system venv demo test bench db-start db-stop clean

install: system venv

# Debian packages, installed only when one is missing.
system:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# The venv, built with Debian's python3.11: the interpreter plpython3u embeds.
venv: system $(DEPS_STAMP)

$(DEPS_STAMP): pyproject.toml
	@test -x $(PY) || $(SUDO) /usr/bin/python3.11 -m venv $(VENV)
	@# dependencies only: the code itself is read from the checkout (and staged for the server)
	$(PY) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
		print("\n".join(p["dependencies"] + p["optional-dependencies"]["test"]))' > /tmp/receptor-planner-requirements.txt
	$(SUDO) $(VENV)/bin/pip install -q --disable-pip-version-check -r /tmp/receptor-planner-requirements.txt
	@$(SUDO) rm -f $(VENV)/.receptor-planner-* && $(SUDO) touch $@

demo: install
	$(PLANNER) demo

test: install
	$(PY) -m pytest -q tests

bench: install
	$(PLANNER) bench

db-start: install
	$(PLANNER) db start

db-stop:
	$(PLANNER) db stop

clean: db-stop
	rm -rf .planner
