# Nyprod: `make run` starts everything locally; `make test` runs the whole test suite on real
# Kafka and PostgreSQL. Both install what is missing first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DB ?= sqlite
PYPROJECTS := $(wildcard contracts/pyproject.toml kit/pyproject.toml services/*/pyproject.toml)

.PHONY: install run up down status test test-fast bench check kafka postgres browser clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt constraints.txt $(PYPROJECTS)
	@command -v java >/dev/null || { apt-get update -q && apt-get install -y -q openjdk-17-jre-headless; }
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	@touch $@

kafka:
	deploy/local/kafka.sh start

postgres:
	deploy/local/postgres.sh start

# Debian's Chromium for the browser tests (a test tool's own browser download cannot work here)
browser:
	@[ -x /usr/bin/chromium ] || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

run: install
	$(PY) deploy/local/stack.py run --db $(DB)

up: install
	$(PY) deploy/local/stack.py up --db $(DB)

down:
	$(PY) deploy/local/stack.py down

status:
	$(PY) deploy/local/stack.py status

test: install kafka postgres browser
	$(PY) -m pytest $(PYTEST_ARGS)

# everything but the browser and the heavy cross-service scenarios
test-fast: install kafka postgres
	$(PY) -m pytest -m "not browser and not slow" $(PYTEST_ARGS)

bench: install kafka postgres
	$(PY) tests/bench/sales_launch.py $(BENCH_ARGS)

# the invariant checker against the running local stack's databases
check: install
	PYTHONPATH=tests $(PY) -m harness.invariants $(CHECK_ARGS)

clean: down
	deploy/local/kafka.sh stop || true
	deploy/local/postgres.sh stop || true
	rm -rf .run
