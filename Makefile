# Concord: two commands do all the set-up.
#   make run   start the hub with its demo (embedded PostgreSQL + Redis, web, worker, beat)
#   make test  run the whole test suite and the linter
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

.PHONY: run test lint install schema clean-data

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	DEBUG=$${DEBUG:-1} $(PY) manage.py up

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

schema: $(STAMP)
	$(PY) manage.py spectacular --validate --fail-on-warn --file schema.yml

clean-data:
	$(PY) -c "from hub import embedded; embedded.stop_redis(); embedded.stop_postgres()" || true
	rm -rf .concord
