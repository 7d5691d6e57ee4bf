# Concord: two commands do all the set-up.
#   make run   start the hub with its demo (embedded PostgreSQL + Redis, web, worker, beat)
#   make test  run the whole test suite and the linter
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

# The browser tests drive Debian's Chromium through its chromedriver; installed here when missing.
BROWSER_PACKAGES := chromium chromium-driver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint install browser schema clean-data

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

browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		echo "Installing $(BROWSER_PACKAGES) for the browser tests"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			$(BROWSER_PACKAGES) >/dev/null; \
	fi

test: $(STAMP) browser
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

schema: $(STAMP)
	$(PY) manage.py spectacular --validate --fail-on-warn --file schema.yml

clean-data:
	$(PY) -c "from hub import embedded; embedded.stop_redis(); embedded.stop_postgres()" || true
	rm -rf .concord
