"""Production mode with two roles, as the README sets it up: the schema's owner
(`PSA_<SERVICE>_SCHEMA_URL`) and the serving role (`PSA_<SERVICE>_DATABASE_URL`). A URL that cannot
work, whichever it is, stops a command with one line naming its variable, exit 1, at once."""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest

from psa_shared.testing import PG_ADMIN_URL, pg_admin_url

from .test_cli_startup_errors import environment, needs, no_running_worker, psa_cli, refusal  # noqa: F401

PASSWORD = "hunter2-secret"


@pytest.fixture
def roles(monkeypatch):
    """A database owned by `ops_fix_owner_*`, the serving role `ops_fix_app_*` beside it (no CREATE on
    its schema, as PostgreSQL 15 makes it), its tables made and granted: returns (owner, app) URLs."""
    needs(PG_ADMIN_URL)
    run = uuid.uuid4().hex[:8]
    owner, app, name = f"ops_fix_owner_{run}", f"ops_fix_app_{run}", f"ops_fix_{run}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{owner}" LOGIN')
        admin.execute(f'CREATE ROLE "{app}" LOGIN')
        admin.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
    urls = tuple(pg_admin_url(name).replace("://postgres@", f"://{role}@") for role in (owner, app))
    monkeypatch.setenv("PSA_DATABASE_WAIT_SECONDS", "30")  # none of these may wait
    try:
        yield urls
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{app}"')
            admin.execute(f'DROP ROLE IF EXISTS "{owner}"')


def refused_at_once(*command) -> str:
    started = time.monotonic()
    line = refusal(psa_cli(*command))
    assert time.monotonic() - started < 10, "tried again for PSA_DATABASE_WAIT_SECONDS"
    return line


def test_a_mistyped_serving_role_beside_a_schema_url_names_the_database_url(monkeypatch, roles):
    owner, app = roles
    monkeypatch.setenv("PSA_TICKETS_SCHEMA_URL", owner)
    monkeypatch.setenv("PSA_TICKETS_DATABASE_URL", app.replace("ops_fix_app_", "ops_fix_typo_"))
    line = refused_at_once("tickets", "sweep")
    assert line.startswith("Error: PSA_TICKETS_DATABASE_URL: role 'ops_fix_typo_") and "does not exist" in line


def test_a_mysql_serving_url_beside_a_schema_url_names_the_database_url(monkeypatch, roles):
    monkeypatch.setenv("PSA_TICKETS_SCHEMA_URL", roles[0])
    monkeypatch.setenv("PSA_TICKETS_DATABASE_URL", f"mysql://x:{PASSWORD}@y/z")
    line = refused_at_once("tickets", "sweep")
    assert line.startswith("Error: PSA_TICKETS_DATABASE_URL: unsupported scheme 'mysql'")
    assert PASSWORD not in line


def test_a_cron_sweep_with_the_serving_role_alone_says_to_set_the_schema_url(monkeypatch, roles):
    owner, app = roles
    monkeypatch.setenv("PSA_TICKETS_SCHEMA_URL", owner)
    monkeypatch.setenv("PSA_TICKETS_DATABASE_URL", app)
    assert psa_cli("migrate").exit_code == 0  # the tables exist, the serving role granted rows
    monkeypatch.delenv("PSA_TICKETS_SCHEMA_URL")
    line = refused_at_once("tickets", "sweep")
    assert line.startswith("Error: PSA_TICKETS_DATABASE_URL: permission denied")
    assert "set PSA_TICKETS_SCHEMA_URL" in line


@pytest.mark.parametrize("at_fault", ["database", "role"])
def test_a_database_or_role_that_does_not_exist_stops_at_once(monkeypatch, roles, at_fault):
    """Waiting cannot make either exist: until 2026-11-28 tried again for PSA_DATABASE_WAIT_SECONDS."""
    _, app = roles
    url = app.rsplit("/", 1)[0] + "/ops_fix_nope" if at_fault == "database" else app.replace("_app_", "_nobody_")
    monkeypatch.setenv("PSA_TICKETS_DATABASE_URL", url)
    line = refused_at_once("tickets", "sweep")
    assert line.startswith("Error: PSA_TICKETS_DATABASE_URL: ") and "does not exist" in line
    assert "PSA_DATABASE_WAIT_SECONDS" not in line
