"""Two writes colliding on PostgreSQL (a deadlock, a serialization failure) are answered as what
they are: the database is there and the same request again is expected to pass. Until 2026-11-28
both said "the database is not reachable", which sent operators looking for an outage."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest
from flask import Flask

from psa_shared.db import open_database
from psa_shared.errors import register_error_handlers
from psa_shared.testing import PG_ADMIN_URL, pg_admin_url

from .test_cli_startup_errors import free_port, needs

COLLIDED = "the change collided with another made at the same moment; retry"


@pytest.fixture
def database():
    """A database of two rows, `ops_fix_*`, dropped afterwards."""
    needs(PG_ADMIN_URL)
    name = f"ops_fix_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    db = open_database(pg_admin_url(name))
    db.execute_sql("CREATE TABLE counter (id int PRIMARY KEY, n int)")
    db.execute_sql("INSERT INTO counter VALUES (1, 0), (2, 0)")
    try:
        yield db
    finally:
        db.close_all()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def other_session(db):
    return psycopg.connect(pg_admin_url(db.database), autocommit=True)


def serialization_failure(db) -> None:
    """Our REPEATABLE READ transaction updates a row another session changed after its snapshot."""
    with other_session(db) as other, db.atomic():
        db.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        db.execute_sql("SELECT n FROM counter WHERE id = 1")
        other.execute("UPDATE counter SET n = n + 1 WHERE id = 1")
        db.execute_sql("UPDATE counter SET n = n + 1 WHERE id = 1")


def deadlock(db) -> None:
    """Each session holds one row and wants the other's; ours checks for deadlocks first, so it is
    the one the server aborts."""
    with other_session(db) as other, db.atomic():
        db.execute_sql("SET LOCAL deadlock_timeout = '100ms'")
        db.execute_sql("UPDATE counter SET n = n + 1 WHERE id = 1")
        other.execute("BEGIN")
        other.execute("SET LOCAL deadlock_timeout = '10s'")
        other.execute("UPDATE counter SET n = n + 1 WHERE id = 2")
        waiting = threading.Thread(target=other.execute, args=("UPDATE counter SET n = n + 1 WHERE id = 1",))
        waiting.start()
        try:
            with other_session(db) as watcher:  # until the other session waits on our row
                while not watcher.execute("SELECT 1 FROM pg_locks WHERE NOT granted").fetchone():
                    pass
            db.execute_sql("UPDATE counter SET n = n + 1 WHERE id = 2")
        finally:
            waiting.join(timeout=15)


@pytest.mark.parametrize("collide", [serialization_failure, deadlock], ids=["40001", "40P01"])
def test_a_write_that_collides_with_another_is_a_503_saying_so(database, collide):
    app = Flask(__name__)
    register_error_handlers(app)
    app.add_url_rule("/collide", "collide", lambda: collide(database), methods=["POST"])
    response = app.test_client().post("/collide")
    assert response.status_code == 503 and response.content_type == "application/problem+json"
    assert response.json["detail"] == COLLIDED and response.headers["Retry-After"] == "1"


def test_a_database_that_is_away_is_still_not_reachable(database):
    app = Flask(__name__)
    register_error_handlers(app)
    away = open_database(f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere")
    app.add_url_rule("/away", "away", lambda: away.execute_sql("SELECT 1"))
    response = app.test_client().get("/away")
    assert response.status_code == 503 and response.json["detail"] == "the database is not reachable; retry"
