# 建培助手 (jianpei): the two commands are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN = $(VENV)/bin
DATA_DIR ?= $(or $(JIANPEI_DATA_DIR),var)
INSTALLED = $(VENV)/.installed

.PHONY: install run test lint bench clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

run: install
	$(BIN)/jianpei db upgrade
	test -f $(DATA_DIR)/.demo-loaded || ($(BIN)/jianpei admin demo-data && touch $(DATA_DIR)/.demo-loaded)
	$(BIN)/jianpei serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
