# Rebound. `make run` and `make test` do all the set-up a fresh clone needs:
# they create .venv and install requirements.txt whenever it is missing or has changed.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install; requirements.txt newer than it means reinstall.
STAMP := $(VENV)/.installed

PORT ?= 8000
# Extra arguments for pytest: make test ARGS="-k plan -x"
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run test lint fmt bench demo jobs migrate

help:
	@echo "make run     set up, migrate, then serve on http://localhost:$(PORT)/ with a worker and beat"
	@echo "make test    set up, then run the test suite (make test ARGS=\"-k plan\")"
	@echo "make lint    ruff check and ruff format --check"
	@echo "make fmt     ruff format and ruff check --fix"
	@echo "make bench   time the progression engine (bench/engine.py)"
	@echo "make demo    load a demo clinic (manage.py seed_demo)"
	@echo "make jobs    run every periodic job once, now (manage.py run_jobs)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

# honcho gives the first Procfile entry (web) PORT=$(PORT). It stops all three on Ctrl-C.
run: migrate
	@echo
	@echo "  Rebound:  http://localhost:$(PORT)/"
	@echo "  API docs: http://localhost:$(PORT)/api/v1/docs/"
	@echo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start --procfile Procfile --port $(PORT)

test: $(STAMP)
	$(BIN)/pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/engine.py

demo: migrate
	$(BIN)/python manage.py seed_demo

jobs: migrate
	$(BIN)/python manage.py run_jobs
