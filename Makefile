# repertory — `make run` starts the whole stack, `make test` runs the tests.
# Both create .venv and install everything on a fresh machine; torch comes from the pins in
# constraints.txt (local wheels; other versions download gigabytes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
STAMP  := $(VENV)/.installed

.PHONY: run test browser lint bench-solve bench-scrape bench-embed bench-search clean venv \
        bench-deps bench-queue

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -e '.[gpu,scrape,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/repertory up

# Two pytest workers, whole files each (a module's shared stack stays in one process): most
# tests wait on real servers and processes, so two halve the wall time even on 2 cores.
PYTEST_WORKERS ?= 2

test: $(STAMP) browser
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The dashboard's browser tests drive Debian's chromium (Playwright never downloads one).
browser:
	command -v chromium >/dev/null || { apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    chromium fonts-dejavu-core; }

lint: $(STAMP)
	$(BIN)/ruff check .

bench-solve: $(STAMP)
	$(BIN)/python bench/solve.py

bench-scrape: $(STAMP)
	$(BIN)/python bench/scrape.py

bench-embed: $(STAMP)
	$(BIN)/python bench/embed.py

bench-search: $(STAMP)
	$(BIN)/python bench/search.py

# Peers for bench/queue (Celery, RQ, taskiq, Huey) live in their own venv, never in the
# product's dependencies. The product itself is installed editable (base deps, no torch).
BENCH_VENV  := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

bench-deps: $(BENCH_STAMP)

$(BENCH_STAMP): pyproject.toml constraints.txt Makefile
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -c constraints.txt -e . \
	    'celery[redis]' rq taskiq taskiq-redis huey matplotlib py-spy httpx uvloop aiohttp
	$(BENCH_VENV)/bin/python -c 'import actors, celery, rq, taskiq, taskiq_redis, huey'
	touch $(BENCH_STAMP)

bench-queue: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/queue/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
