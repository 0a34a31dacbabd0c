# The developer loop. `make check` before every push.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install check lint type test test-pg acceptance bench demo

install:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -e '.[postgres,test]'

lint:
	$(VENV)/bin/ruff check src tests bench

type:
	$(VENV)/bin/mypy src/recoup

test:
	$(VENV)/bin/pytest -q

test-pg:
	RECOUP_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(VENV)/bin/pytest -q

acceptance:
	$(PY) ../shared/acceptance/score.py ../shared/acceptance/small --recoup $(VENV)/bin/recoup
	$(PY) ../shared/acceptance/score.py ../shared/acceptance/small-formats --recoup $(VENV)/bin/recoup
	$(PY) ../shared/acceptance/score.py ../shared/acceptance/real-formats --recoup $(VENV)/bin/recoup

check: lint type test acceptance

bench:
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_audit.py
	$(PY) bench/bench_webhook.py
	$(PY) bench/bench_cli.py

demo:
	$(VENV)/bin/recoup demo
