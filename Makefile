# Two commands for a newcomer: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: run test test-postgres lint check clean backup restore

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  Safe Sharing is starting on http://127.0.0.1:8000/"
	@echo "  Demo logins (password kidscount-demo): leader, deputy, dsl, staff, parent, parent2, admin (Django admin)"
	@echo "  Another nursery, kept apart: acorns_leader, acorns_parent"
	@echo "  Web, Celery worker and Celery beat run together; Ctrl-C stops all three."
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev

# In CI the suite runs twice: SQLite (with the browser), then PostgreSQL, where the row-lock races run.
test: $(VENV)/.installed
	@if [ "$$CI" = "true" ]; then \
		POSTGRES_PASS=later $(BIN)/pytest && $(MAKE) test-postgres; \
	else \
		$(BIN)/pytest; \
	fi

# The suite once more on PostgreSQL (row locks, concurrent connections) with Redis as the broker.
test-postgres: $(VENV)/.installed
	DATABASE_URL=$(PG_URL) CELERY_BROKER_URL=redis://127.0.0.1:6379/15 $(BIN)/pytest -m "not browser"

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run

# One archive holding the database and MEDIA_ROOT (README, Production: Backup and restore).
# `make backup` or `make backup BACKUP=/safe/place/today.tar.gz`; never includes FIELD_ENCRYPTION_KEY.
backup: $(VENV)/.installed
	$(BIN)/python manage.py backup $(if $(BACKUP),--output "$(BACKUP)")

# Rebuild an EMPTY database (DATABASE_URL) and an empty MEDIA_ROOT: `make restore BACKUP=path/to/archive.tar.gz`.
restore: $(VENV)/.installed
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=path/to/archive.tar.gz"; exit 2; }
	$(BIN)/python manage.py restore "$(BACKUP)"

clean:
	rm -rf $(VENV) var
