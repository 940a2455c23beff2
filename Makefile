# The front door. `make run` starts everything on embedded defaults; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DISTS := shared services/tickets $(wildcard services/docs_vault services/billing plugins/*)
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast bench bench-pages lint format up clean

install: $(STAMP)

$(STAMP): $(foreach d,$(DISTS),$(d)/pyproject.toml)
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(foreach d,$(DISTS),-e '$(d)[test]') ruff
	touch $(STAMP)

run: install
	$(BIN)/psa serve --port $${PORT:-8000}

test: install
	$(BIN)/pytest

test-fast: install
	PSA_TEST_BACKENDS=embedded $(BIN)/pytest -x -q

bench: install
	$(BIN)/python -m tests.bench
	$(BIN)/python -m tests.bench.vault
	$(BIN)/python -m tests.bench.rotation

bench-pages: install
	$(BIN)/python -m tests.bench.pages

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Production-like: every service against PostgreSQL and RabbitMQ on this machine. The role
# `psa_owner` owns the databases and makes the schema at start; the services' requests run as
# `psa`, which reads and writes rows only (not a superuser: superusers skip row-level security).
PSQL = psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -qtc
up: install
	for role in psa_owner psa; do \
	  $(PSQL) "SELECT 1 FROM pg_roles WHERE rolname = '$$role'" | grep -q 1 || $(PSQL) "CREATE ROLE $$role LOGIN"; \
	done
	for db in psa_tickets psa_docs_vault; do \
	  $(PSQL) "SELECT 1 FROM pg_database WHERE datname = '$$db'" | grep -q 1 || $(PSQL) "CREATE DATABASE $$db OWNER psa_owner"; \
	done
	@# outside embedded mode the vault wants its master key given: one kept under var/ for `make up`
	test -s var/up-vault-master.key || (mkdir -p var && umask 077 && \
	  $(BIN)/python -c "from psa_docs_vault.keys import generate_master_key_entry; print(generate_master_key_entry())" \
	  > var/up-vault-master.key)
	PSA_BROKER_URL=amqp://guest:guest@127.0.0.1:5672// \
	PSA_VAULT_MASTER_KEY_FILE=var/up-vault-master.key \
	PSA_TICKETS_SCHEMA_URL=postgresql://psa_owner@127.0.0.1:5432/psa_tickets \
	PSA_TICKETS_DATABASE_URL=postgresql://psa@127.0.0.1:5432/psa_tickets \
	PSA_DOCS_VAULT_SCHEMA_URL=postgresql://psa_owner@127.0.0.1:5432/psa_docs_vault \
	PSA_DOCS_VAULT_DATABASE_URL=postgresql://psa@127.0.0.1:5432/psa_docs_vault \
	$(BIN)/psa serve --port $${PORT:-8000}

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
