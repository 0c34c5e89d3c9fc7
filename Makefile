# Two commands do all the set-up on a fresh machine (Python 3.11 and make):
#   make run    the whole stack: web + Celery worker + Celery Beat (+ embedded Redis/SQLite)
#   make test   the test suite
#   make bench  the benchmarks (needs PostgreSQL: BENCH_DATABASE_URL)
#   make flower Celery's Flower on the same broker (needs FLOWER_BASIC_AUTH=user:password)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint install clean bench flower

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m core.launcher

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks of issue 5 against real PostgreSQL; each updates its section of
# docs/PERFORMANCE.md. The database is created and migrated if missing.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/bench_nexkodonto
bench: $(STAMP)
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m bench.sweep $(BENCH_ARGS)
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m bench.idle $(BENCH_ARGS)
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m bench.concorrencia
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m bench.filas
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m bench.horarios_livres
	$(BIN)/python -m bench.importacao
	$(BIN)/python -m bench.latencia
	$(BIN)/python -m bench.memoria
	command -v wrk >/dev/null || { echo "bench.api needs wrk (apt-get install wrk)"; exit 1; }
	$(BIN)/python -m bench.api

# Flower (the "flower" extra, in dev too): refuses to start without
# FLOWER_BASIC_AUTH; listens on 127.0.0.1:5555 unless FLOWER_ADDRESS / FLOWER_PORT.
flower: $(STAMP)
	$(BIN)/python -m apps.operacao.flower

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) var *.egg-info
