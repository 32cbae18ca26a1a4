# spinenet-nas: `make test` and `make search` work from a fresh clone (they create .venv).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export RAY_AUTH_MODE ?= disabled

.PHONY: install test search lint clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	$(VENV)/bin/pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the project with its pinned stack

test: $(STAMP)  ## the whole test suite, slowest tests listed at the end
	$(PY) -m pytest -q --durations=15

search: $(STAMP)  ## the out-of-box run: nas search with its defaults
	$(VENV)/bin/nas search

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
