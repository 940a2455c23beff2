"""pytest plugin for PSA Core and its plugins: the whole system on a chosen backend.

Every test that uses `psa` runs twice: on the embedded stack (SQLite files, kombu `memory://`)
and on the real one (PostgreSQL on 127.0.0.1:5432, RabbitMQ on 127.0.0.1:5672). The real run
skips where those are unreachable, except under `CI=true`, where it fails instead.
Set `PSA_TEST_BACKENDS=embedded` (or `real`) to run only one.
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import NamedTuple, TypeVar
from urllib.parse import urlsplit

import psycopg
import pytest
from werkzeug.test import Client

from .config import Settings
from .runtime import System
from .services import discover_services

T = TypeVar("T")
PG_ADMIN_URL = os.environ.get("PSA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("PSA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
BACKENDS = [b for b in os.environ.get("PSA_TEST_BACKENDS", "embedded,real").split(",") if b]


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=1).close()
    except OSError:
        return False
    return True


# As in production, the services read and write rows as a role that is neither superuser nor
# BYPASSRLS (either would walk through row-level security unseen) nor the tables' owner (who could
# drop a policy); another role owns the database and makes the schema at each start.
APP_ROLE, OWNER_ROLE = "psa_test_app", "psa_test_owner"


class PgDatabase(NamedTuple):
    url: str  # PSA_<SERVICE>_DATABASE_URL: the app's role
    schema_url: str  # PSA_<SERVICE>_SCHEMA_URL: the owner's
    admin_url: str  # the administrator's (a superuser: sees every tenant's rows)

    def settings(self, service: str) -> dict[str, str]:
        """The service's environment for this database."""
        return {f"PSA_{service.upper()}_DATABASE_URL": self.url, f"PSA_{service.upper()}_SCHEMA_URL": self.schema_url}


def fresh_pg_database(name: str) -> PgDatabase:
    """An empty database owned by the owner role, and the URLs of both roles."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        for role in (APP_ROLE, OWNER_ROLE):
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
                with contextlib.suppress(psycopg.errors.DuplicateObject):  # another run made it just now
                    conn.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS')
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" OWNER "{OWNER_ROLE}"')
    parts = urlsplit(PG_ADMIN_URL)
    server = f"{parts.hostname}:{parts.port or 5432}/{name}"
    return PgDatabase(f"postgresql://{APP_ROLE}@{server}", f"postgresql://{OWNER_ROLE}@{server}", pg_admin_url(name))


def pg_admin_url(name: str) -> str:
    """The administrator's URL for database `name`."""
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def end_server_processes(database: str, application_name: str | None = None) -> int:
    """Terminate the PostgreSQL processes serving `database` (to their clients, what a restart
    does): all of them, or only the connections named `application_name`. Returns how many."""
    query = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
    values: tuple = (database,)
    if application_name is not None:
        query, values = query + " AND application_name = %s", (database, application_name)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:  # connected to another database
        return len(admin.execute(query, values).fetchall())


class _OtherWriter(NamedTuple):
    execute: Callable[[str, tuple], object]
    wait: Callable[[], None]


def _sqlite_value(value):
    return value.hex if isinstance(value, uuid.UUID) else value  # as peewee's UUIDField stores it


def _wait_for_lock_waiter(database: str, timeout: float = 10.0) -> None:
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'"
    deadline = time.monotonic() + timeout
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        while admin.execute(query, (database,)).fetchone()[0] == 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no session of {database} waited on the other writer's locks")
            time.sleep(0.02)


class Http:
    """An HTTP client on the system's all-in-one router, optionally sending a bearer token."""

    def __init__(self, system: PsaSystem, token: str | None = None):
        self.system, self.token = system, token

    def open(self, method: str, path: str, **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.system.client().open(path, method=method, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self.open("GET", path, **kw)

    def post(self, path, **kw):
        return self.open("POST", path, **kw)

    def put(self, path, **kw):
        return self.open("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.open("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.open("DELETE", path, **kw)

    def as_token(self, token: str | None) -> Http:
        return Http(self.system, token)


class PsaSystem(System):
    """The system under test: services bound, queues declared, and a synchronous bus."""

    backend: str

    def __init__(self, settings: Settings, backend: str):
        super().__init__(settings, discover_services())
        self.backend = backend
        self._client: Client | None = None
        self._client_plugins: tuple = ()  # `registered()` when the app was built
        self._client_lock = threading.Lock()

    @contextmanager
    def as_owner(self, name: str):
        """The service's database bound, for the block, to the role owning its tables (schema
        changes, truncation, tampering a test plays out); as it is where no owner is set."""
        service, owner = self.service(name), self.settings.schema_url(name)
        if owner is None:
            yield service.db
            return
        service.db.bind(owner)
        try:
            yield service.db
        finally:
            service.db.bind(self.settings.database_url(name))

    def meanwhile(self, name: str, statements: list, action: Callable[[], T], then: list = ()) -> T:
        """`action()`'s result, run on a thread while another writer holds a transaction on
        service `name`'s database (the administrator's on PostgreSQL, a second connection on
        SQLite): a consumer or a concurrent request caught mid-way. The writer runs `statements`
        (`(sql, values)`, `%s` placeholders, ids as `uuid.UUID`), waits until `action` waits on
        its locks (PostgreSQL; on SQLite, whose writers take turns, a moment), runs `then`, and
        commits."""
        with ThreadPoolExecutor(1) as pool, self._other_writer(name) as writer:
            for statement in statements:
                writer.execute(*statement)
            answer = pool.submit(action)
            writer.wait()
            for statement in then:
                writer.execute(*statement)
        return answer.result(timeout=30)

    @contextmanager
    def _other_writer(self, name: str):
        url = self.settings.database_url(name)
        if url.startswith("sqlite:///"):
            connection = sqlite3.connect(url[len("sqlite:///") :], isolation_level=None, timeout=10)
            try:
                connection.execute("BEGIN IMMEDIATE")
                yield _OtherWriter(
                    lambda sql, values: connection.execute(sql.replace("%s", "?"), [_sqlite_value(v) for v in values]),
                    lambda: time.sleep(0.3),
                )
                connection.execute("COMMIT")
            finally:
                connection.close()
            return
        database = urlsplit(url).path.lstrip("/")
        with psycopg.connect(pg_admin_url(database)) as connection:  # leaves the block's transaction open
            yield _OtherWriter(connection.execute, lambda: _wait_for_lock_waiter(database))
            connection.commit()

    def client(self) -> Client:
        """The test client on the app, built at the first request and again once `plugins(...)`
        registered another: until 2026-11-28 a plugin registered after `tenant` (which makes a
        request) was missing from the web side, its pages 404, while workers built later had it
        (tests/shared/test_plugin_fixtures.py)."""
        from .plugins import registered

        # Built once even when a test's threads ask at once: apps built side by side raced on
        # CPython 3.11's AST compiler (werkzeug compiles each route), a SystemError in CI.
        with self._client_lock:
            if self._client is None or self._client_plugins != registered():
                self._client, self._client_plugins = Client(self.wsgi()), registered()
        return self._client

    def rebuild(self) -> None:
        """Build the app again at the next request, for a test that changed `settings`."""
        with self._client_lock:
            self._client = None

    @property
    def http(self) -> Http:
        return Http(self)

    def emitted(self, type_: str | None = None) -> list:
        """Every event the services wrote to their outboxes (published or not), oldest first."""
        from .events import Event

        found = []
        for service in self.services:
            model = service.outbox.model
            with service.db.proxy.connection_context():
                query = model.select().order_by(model.created_at, model.id)
                if type_ is not None:
                    query = query.where(model.type == type_)
                found += [Event.from_json(row.body) for row in query]
        return found

    def purge(self) -> None:
        from . import bus

        with bus.connect(self.settings) as connection:
            for consumer in self.consumers():
                consumer.declare(connection)
                for queue in consumer.queues:
                    queue.bind(connection.default_channel).purge()

    def settle(self, rounds: int = 10) -> int:
        """Relay every outbox and apply every event, until nothing moves. Returns events relayed."""
        from . import bus

        total = 0
        consumers = self.consumers()
        with bus.connect(self.settings) as connection:
            for consumer in consumers:
                consumer.declare(connection)
            for _ in range(rounds):
                moved = sum(relay.drain() for relay in self.relays())
                for consumer in consumers:
                    consumer.consume(connection, until_idle=0.05 if self.backend == "embedded" else 0.3)
                total += moved
                if not moved:
                    break
        return total


@pytest.fixture(scope="session", params=BACKENDS)
def psa_backend(request, tmp_path_factory):
    """Per backend, the environment every test of the session shares (databases, bus prefix)."""
    backend, run = request.param, uuid.uuid4().hex[:8]  # concurrent runs never share a database
    env = {"PSA_KEYS_DIR": str(tmp_path_factory.mktemp("keys"))}
    if backend == "real":
        if not (reachable(PG_ADMIN_URL) and reachable(AMQP_URL)):
            if os.environ.get("CI") == "true":
                pytest.fail("CI=true but PostgreSQL or RabbitMQ is unreachable on 127.0.0.1")
            pytest.skip("PostgreSQL or RabbitMQ unreachable: real-backend run skipped")
        env["PSA_BROKER_URL"] = AMQP_URL
        # Outside embedded mode the vault refuses to generate its own master key: give it one.
        env["PSA_VAULT_MASTER_KEYS"] = "test:" + base64.b64encode(os.urandom(32)).decode()
        for service in discover_services():
            env.update(fresh_pg_database(f"psa_test_{service.name}_{run}").settings(service.name))
    env["PSA_BUS_PREFIX"] = f"test-{run}."
    yield backend, env
    if backend == "real":
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            for service in discover_services():
                service.db.close()
                if hasattr(service.db.proxy.obj, "close_all"):
                    service.db.proxy.obj.close_all()
                conn.execute(f'DROP DATABASE IF EXISTS "psa_test_{service.name}_{run}" WITH (FORCE)')


@pytest.fixture
def psa(psa_backend, tmp_path, monkeypatch) -> PsaSystem:
    """The whole system, empty, on this test's backend."""
    backend, env = psa_backend
    env = {**env, "PSA_DATA_DIR": str(tmp_path / "var")}
    if backend == "embedded":
        env["PSA_BUS_PREFIX"] = f"test-{uuid.uuid4().hex[:8]}."  # memory:// is process-wide
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    system = PsaSystem(Settings.from_env(), backend)
    system.bind()
    if backend == "real":
        for service in system.services:
            with system.as_owner(service.name):
                service.db.truncate()
        system.purge()  # drop what an earlier test left on the queues
    yield system
    system.stop_workers()
    for service in system.services:
        service.db.close()


@pytest.fixture
def plugins():
    """`plugins(plugin, name)` registers a plugin object for this test, as if installed under the
    `psa` entry point `name` (in place of an installed plugin of that name), and returns it; each is
    unregistered after the test. Call it from a fixture or the test itself: the app is built
    again, with it, at the next request, and `psa.settle()` builds its consumers each time."""
    from .plugins import register_plugin, unregister_plugin

    names = []

    def install(plugin, name: str):
        register_plugin(plugin, name)
        names.append(name)
        return plugin

    yield install
    for name in names:
        unregister_plugin(name)


@pytest.fixture
def bus(psa) -> PsaSystem:
    """The system's bus, synchronous: `bus.settle()` relays every outbox and applies every event;
    `bus.emitted("ticket.created")` lists what was written to the outboxes."""
    return psa
