# The two commands a new user needs: `make run` and `make test`. `make help` lists all.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= cms.settings.dev

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.installed-dev: requirements-dev.txt $(BIN)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

.PHONY: install
install: $(BIN)/.installed ## Create .venv and install the pinned requirements

.PHONY: setup
setup: install ## Migrate, load the seed content once, create an admin if asked to
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_seed_content
	@if [ -n "$$DJANGO_SUPERUSER_USERNAME" ] && [ -n "$$DJANGO_SUPERUSER_PASSWORD" ]; then \
	  $(BIN)/python manage.py createsuperuser --noinput --email "$${DJANGO_SUPERUSER_EMAIL:-admin@example.org}" 2>/dev/null \
	    && echo "Admin user $$DJANGO_SUPERUSER_USERNAME created." || echo "Admin user $$DJANGO_SUPERUSER_USERNAME already exists."; \
	else \
	  echo "No admin user created: set DJANGO_SUPERUSER_USERNAME and DJANGO_SUPERUSER_PASSWORD, or run '$(BIN)/python manage.py createsuperuser'."; \
	fi

.PHONY: run
run: setup ## Start the site on 127.0.0.1:$(PORT) with a Celery worker and two beats, restarted if they die (Ctrl-C stops all)
	$(BIN)/python manage.py runstack --port $(PORT)

# The suite runs in parallel pytest processes (pytest-xdist): most of its time is spent
# waiting on real workers, beats, gunicorn and Chromium, so more processes than the 2
# cores keep both busy (6: at 3, both cores were idle half the run). With Redis, each
# process takes a cache and a broker database (cms/settings/test.py): at most 7 fit in
# Redis's default 16. `make test TEST_PROCESSES=0` runs it in one process; PYTEST_ARGS
# replaces the defaults (e.g. PYTEST_ARGS="-n0 tests/cms -x"). `--dist load`, not
# loadgroup/loadscope: those key work by test id, and schemathesis gives each API operation
# the same id (tests/cms/test_api_fuzz.py), so they would silently run 1 of 17.
# `--maxschedchunk 1`: tests go out one at a time, in the order tests/conftest.py gives
# (real-process tests spread through the run), so no process is left with a queue of
# long tests while the others idle; at most TEST_HEAVY_AT_ONCE (3) run at once.
TEST_PROCESSES ?= 6
PYTEST_ARGS ?= -n $(TEST_PROCESSES) --dist load --maxschedchunk 1 --durations=15

.PHONY: test
test: $(BIN)/.installed-dev ## Run the whole test suite (in TEST_PROCESSES parallel processes)
	DJANGO_SETTINGS_MODULE=cms.settings.test $(BIN)/python -m pytest $(PYTEST_ARGS)

.PHONY: lint
lint: $(BIN)/.installed-dev ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

.PHONY: check
check: $(BIN)/.installed-dev ## Django system checks and missing migrations
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

.PHONY: bench
bench: $(BIN)/.installed-dev ## Benchmarks: print figures as ratios to a baseline measured in the same run
	DJANGO_SETTINGS_MODULE=cms.settings.test $(BIN)/python -m benchmarks $(BENCH_ARGS)
