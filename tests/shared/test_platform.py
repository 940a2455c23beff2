"""The platform's own promises: prefixes, hookspecs, OpenAPI, health."""

import gc
import inspect
import logging
import socket
import threading
import time
import uuid

import peewee
import psycopg
import pytest

from psa_shared.config import Settings
from psa_shared.plugins import hookspecs
from psa_shared.runtime import periodic_loop
from psa_shared.services import Periodic, Service, check_prefixes, discover_services
from psa_shared.testing import PG_ADMIN_URL, pg_admin_url


def test_no_two_services_claim_overlapping_prefixes():
    check_prefixes(discover_services())


def test_overlapping_prefixes_are_refused():
    fake = [
        Service(name=n, prefixes=p, db=None, outbox=None, inbox=None, app_factory=None)
        for n, p in (("a", ("/api/v1/reports",)), ("b", ("/api/v1/reports/at-risk",)))
    ]
    with pytest.raises(RuntimeError):
        check_prefixes(fake)


def test_every_hook_is_documented_with_its_arguments():
    hooks = [f for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("psa_")]
    assert hooks
    for hook in hooks:
        doc = inspect.getdoc(hook) or ""
        assert doc, hook.__name__
        for param in inspect.signature(hook).parameters:
            assert param in doc, f"{hook.__name__} does not document {param}"


def test_health_and_openapi_of_every_service(psa):
    assert psa.http.get("/healthz").json["status"] == "ok"
    for service in psa.services:
        spec = psa.http.get(f"/openapi/{service.name}.json")
        assert spec.status_code == 200 and spec.json["openapi"].startswith("3.1")
    assert psa.http.get("/metrics").status_code == 200


def test_unknown_path_is_a_problem_not_a_crash(psa):
    response = psa.http.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.content_type == "application/problem+json"


def test_an_index_the_models_retired_is_dropped_and_a_missing_one_made_at_start(psa):
    with psa.as_owner("tickets") as db, db.proxy.connection_context():
        db.proxy.execute_sql('CREATE INDEX "ticket_tenant_id_priority_id" ON "ticket" ("tenant_id", "priority", "id")')
        db.proxy.execute_sql('DROP INDEX "ticket_tenant_id_client_id_id"')
    psa.service("tickets").bind(psa.settings)  # what every start does
    db = psa.service("tickets").db
    with db.proxy.connection_context():
        names = {index.name for index in db.proxy.get_indexes("ticket")}
    assert "ticket_tenant_id_priority_id" not in names and "ticket_tenant_id_client_id_id" in names


def test_sqlite_checkpoints_keep_the_wal_small_without_the_writer_waiting(tmp_path):
    """Automatic checkpoints are off (they would run inside a writer's turn); every
    CHECKPOINT_EVERY commits one runs after the turn, so the WAL is reused instead of growing."""
    from psa_shared.db import SqliteDatabase, open_database

    database = open_database(f"sqlite:///{tmp_path}/wal.sqlite")
    assert database.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    database.execute_sql("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT)")
    commits = 10 * SqliteDatabase.CHECKPOINT_EVERY
    for n in range(commits):
        with database.atomic():
            database.execute_sql("INSERT INTO note (text) VALUES (?)", (f"call {n}" * 100,))
    wal = tmp_path / "wal.sqlite-wal"
    assert database.execute_sql("SELECT count(*) FROM note").fetchone()[0] == commits
    # each commit appends at least one 4 KiB page: unchecked, the WAL would pass commits * 4 KiB
    assert wal.stat().st_size < 3 * SqliteDatabase.CHECKPOINT_EVERY * 4096
    database.close_all()


def test_the_wal_is_started_over_while_two_processes_keep_writing(tmp_path):
    """Two gunicorn workers writing without a pause: a checkpoint beside the next writer never
    caught up, so the WAL never started over and grew by every commit (1.5 GB in 20 s of ticket
    creates). Past `WAL_RESTART_PAGES` a checkpoint takes the writer's turn and finishes."""
    import subprocess
    import sys

    from psa_shared.db import SqliteDatabase, open_database

    url = f"sqlite:///{tmp_path}/busy.sqlite"
    database = open_database(url)
    database.execute_sql("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT)")
    worker = (
        "import sys, threading\n"
        "from psa_shared.db import SqliteDatabase, open_database\n"
        "SqliteDatabase.WAL_RESTART_PAGES = 100\n"
        "db = open_database(sys.argv[1])\n"
        "def requests():\n"
        "    for n in range(300):\n"
        "        with db.atomic():\n"
        "            db.execute_sql('INSERT INTO note (text) VALUES (?)', ('Called client. ' * 80,))\n"
        "        db.execute_sql('SELECT max(id) FROM note').fetchone()\n"
        "threads = [threading.Thread(target=requests) for _ in range(3)]\n"
        "for thread in threads: thread.start()\n"
        "for thread in threads: thread.join()\n"
    )
    workers = [subprocess.Popen([sys.executable, "-c", worker, url]) for _ in range(2)]
    assert [w.wait(120) for w in workers] == [0, 0]
    assert database.execute_sql("SELECT count(*) FROM note").fetchone()[0] == 1800
    # 1,800 commits of 1-2 pages each: a WAL never started over passes 1,800 pages (it did, at
    # about 2,900); one started over stays near the limit plus what 40 commits of each add
    pages = (tmp_path / "busy.sqlite-wal").stat().st_size // 4096
    assert pages < 100 + 2 * 2 * 2 * SqliteDatabase.CHECKPOINT_EVERY
    database.close_all()


def test_sqlite_writers_take_turns_across_threads_and_processes(tmp_path):
    """A writer's turn (`BEGIN IMMEDIATE` behind an flock) holds off the next writer, whether it
    is another thread of the process or another process, and passes on at the commit."""
    import select
    import subprocess
    import sys
    import threading

    from psa_shared.db import open_database

    database = open_database(f"sqlite:///{tmp_path}/turns.sqlite")
    database.execute_sql("CREATE TABLE tally (n INTEGER)")
    database.execute_sql("INSERT INTO tally VALUES (0)")
    entered = threading.Event()

    def second_writer():
        with database.atomic():
            entered.set()
            database.execute_sql("UPDATE tally SET n = n + 1")
        database.close()

    with database.atomic():
        database.execute_sql("UPDATE tally SET n = n + 1")
        waiting = threading.Thread(target=second_writer)
        waiting.start()
        assert not entered.wait(0.3)  # the other thread waits for this turn
    assert entered.wait(5)
    waiting.join()

    other_process = (
        "import sys; from psa_shared.db import open_database\n"
        "db = open_database(sys.argv[1])\n"
        "print('ready', flush=True)\n"
        "with db.atomic():\n"
        "    print('in', flush=True)\n"
        "    db.execute_sql('UPDATE tally SET n = n + 1')\n"
    )
    url = f"sqlite:///{tmp_path}/turns.sqlite"
    with database.atomic():
        child = subprocess.Popen([sys.executable, "-c", other_process, url], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline() == "ready\n"
        assert select.select([child.stdout], [], [], 0.5)[0] == []  # it waits for this turn
    assert child.stdout.readline() == "in\n"
    assert child.wait(30) == 0
    assert database.execute_sql("SELECT n FROM tally").fetchone()[0] == 3
    database.close_all()


def test_a_served_system_freezes_what_starting_made(psa):
    """What starting made lives as long as the process: `serving_wsgi()` (gunicorn's entry and
    `psa serve`) takes it out of the cyclic collector's generations."""
    gc.unfreeze()
    try:
        psa.serving_wsgi()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_service_app_answers_the_coroutine_question_as_flask_does():
    """`ServiceFlask.ensure_sync` keeps Flask's answer per function; the answers stay Flask's."""
    from flask import Flask

    from psa_shared.web import ServiceFlask

    class View:
        def get(self):
            return "ok"

    def hook():
        return None

    async def coroutine_view():
        return "ok"

    ours, flasks = ServiceFlask("ours"), Flask("flask")
    for _ in range(2):  # the second round is answered from what the first kept
        assert ours.ensure_sync(hook) is hook
        method = View().get  # a new bound method each request, as MethodView makes
        assert ours.ensure_sync(method) is method
    try:
        expected = type(flasks.ensure_sync(coroutine_view))
    except RuntimeError as error:  # Flask without its async extra
        with pytest.raises(RuntimeError, match=str(error)[:30]):
            ours.ensure_sync(coroutine_view)
    else:
        assert type(ours.ensure_sync(coroutine_view)) is expected
    assert len(ours._coroutine_functions) == 3  # one per function, not one per bound method


def test_a_service_starting_while_its_database_is_not_there_yet_waits_for_it(psa_backend, caplog):
    """A gunicorn worker replaced while PostgreSQL restarts must not fail to start: gunicorn would
    take the whole server down with it. Here the database takes connections a second after the
    start (a database that does not exist at all stops the start at once: test_cli_database_roles)."""
    backend, _ = psa_backend
    if backend != "real":
        pytest.skip("PostgreSQL coming up")
    name = f"psa_test_late_{uuid.uuid4().hex[:8]}"
    settings = Settings.from_env({"PSA_TICKETS_DATABASE_URL": pg_admin_url(name), "PSA_DATABASE_WAIT_SECONDS": "20"})
    service = next(s for s in discover_services() if s.name == "tickets")
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" ALLOW_CONNECTIONS false')

    def open_later():
        time.sleep(1)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    later = threading.Thread(target=open_later)
    later.start()
    try:
        with caplog.at_level(logging.WARNING, logger="psa_shared.services"):
            service.bind(settings)
        assert "database not reachable at start" in caplog.text
        assert service.db.proxy.table_exists("ticket")
    finally:
        later.join()
        service.db.proxy.obj.close_all()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_service_whose_database_stays_away_gives_up_after_the_wait(psa_backend):
    backend, _ = psa_backend
    if backend != "real":
        pytest.skip("PostgreSQL coming up")
    with socket.socket() as probe:  # a port nothing listens on: a server that is not up
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings.from_env({
        "PSA_TICKETS_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/psa_test_never",
        "PSA_DATABASE_WAIT_SECONDS": "1",
    })  # fmt: skip
    started = time.monotonic()
    with pytest.raises(peewee.OperationalError):
        next(s for s in discover_services() if s.name == "tickets").bind(settings)
    assert 0.5 < time.monotonic() - started < 5


def test_a_start_with_the_schema_in_place_waits_for_no_request(psa):
    """A worker starting (restarted, replaced) while requests write: with nothing to create, it
    takes no lock that a write holds up, or that deadlocks with one."""
    if psa.backend != "real":
        pytest.skip("PostgreSQL's table locks")
    for name, table in (("tickets", "ticket"), ("docs_vault", "vault_audit")):
        service = psa.service(name)
        with psycopg.connect(pg_admin_url(service.db.proxy.obj.database)) as writer:
            writer.execute(f'LOCK TABLE "{table}" IN ROW EXCLUSIVE MODE')  # what an INSERT holds to its commit
            start = threading.Thread(target=service.bind, args=(psa.settings,))
            start.start()
            start.join(timeout=15)
            still_waiting = start.is_alive()
            writer.rollback()
            start.join()
        assert not still_waiting, f"{name}: starting waited for a write to {table}"


def test_a_periodic_job_that_fails_is_logged_and_runs_again_on_time(caplog):
    passes = []

    def flaky():
        passes.append(time.monotonic())
        if len(passes) == 1:
            raise RuntimeError("the database went away")
        return "swept"

    loop = periodic_loop(Periodic("nightly-sweep", 0.05, flaky))
    loop.start()
    deadline = time.monotonic() + 5
    while len(passes) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    loop.stop()
    loop.join(5)
    assert len(passes) >= 3 and not loop.is_alive()
    assert "nightly-sweep failed" in caplog.text and "the database went away" in caplog.text
