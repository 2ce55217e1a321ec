# 建培助手 (jianpei): the two commands are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN = $(VENV)/bin
DATA_DIR ?= $(or $(JIANPEI_DATA_DIR),var)
HOST ?= 127.0.0.1
PORT ?= 8000
INSTALLED = $(VENV)/.installed

.PHONY: install system-packages run test lint bench clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

# The browser tests drive Debian's Chromium; installed once, as root or through sudo.
system-packages:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver; }

run: install
	$(BIN)/jianpei db upgrade
	test -f $(DATA_DIR)/.demo-loaded || ($(BIN)/jianpei admin demo-data && $(BIN)/jianpei admin load-catalog \
	  && touch $(DATA_DIR)/.demo-loaded)
	$(BIN)/jianpei serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# One worker per core (at most four): each has its own databases, NLU model and browser. The few
# long tests (kill -9 of real processes, the typed journeys) would leave one worker idle at the end
# under plain load balancing; an idle worker steals pending tests instead.
test: lint system-packages
	$(BIN)/pytest -n auto --maxprocesses 4 --dist worksteal

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
