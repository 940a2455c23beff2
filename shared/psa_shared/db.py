"""Database binding: each service owns one database, bound at start-up, never at import."""

from __future__ import annotations

import fcntl
import itertools
import logging
import os
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import peewee
import psycopg
import psycopg.sql
from playhouse import db_url
from playhouse.migrate import SchemaMigrator, migrate
from playhouse.pool import PooledSqliteDatabase
from playhouse.postgres_ext import PooledPsycopg3Database

from . import tenancy
from .tenancy import TenantModel

# PostgreSQL row-level security, the second wall behind TenantModel: each tenant table shows and
# takes only rows of the tenant in this setting, and with it unset (or empty) none at all.
TENANT_SETTING = "app.tenant_id"
TENANT_POLICY = "psa_tenant"
_IN_TENANT = f"tenant_id = NULLIF(current_setting('{TENANT_SETTING}', true), '')::uuid"
_POLICY = f'CREATE POLICY {TENANT_POLICY} ON "{{table}}" USING ({_IN_TENANT}) WITH CHECK ({_IN_TENANT})'
_UNKNOWN = object()  # a connection whose setting a rollback may have undone


class PostgresqlDatabase(PooledPsycopg3Database):
    """psycopg 3, pooled, with fewer round trips: under load each one costs the worker and the
    server a wake-up, about as much CPU as a small request's Python (docs/foundation.md, Databases).

    - A connection handed out is pinged (`SELECT 1`) only when it sat idle in the pool for
      `PING_IDLE_AFTER` seconds or more; one returned a moment ago is as alive as it was then,
      and one the driver saw fail (`broken`) or close is never handed out.
    - Inside `atomic_writes()`, statements run with `execute_later` wait, and go to the server
      with the transaction's BEGIN and COMMIT as one message (see `atomic_writes`).
    - Row-level security: before a statement, a connection's `app.tenant_id` is made the tenant
      in context (empty outside one). A connection remembers what it was set to, so a worker
      serving one tenant sets it once per pooled connection, not once per request; a
      rollback, which can undo the setting, makes it set again.
    """

    PING_IDLE_AFTER = 1.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._batch = _Batch()

    def _connect(self):
        try:
            return super()._connect()
        except psycopg.OperationalError as error:
            if _REFUSAL.search(str(error)):
                raise DatabaseRefused(str(error)) from error
            raise

    def _is_closed(self, conn):
        if conn.closed or conn.broken:
            return True
        if time.monotonic() - getattr(conn, "_psa_returned_at", float("-inf")) < self.PING_IDLE_AFTER:
            return False
        return super()._is_closed(conn)

    def _close(self, conn, close_conn=False):
        conn._psa_returned_at = time.monotonic()
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn._psa_tenant = _UNKNOWN  # the pool rolls it back
        super()._close(conn, close_conn)

    @contextmanager
    def atomic_writes(self):
        """A transaction whose BEGIN, writes run with `execute_later` and COMMIT reach the server
        as one multi-statement message, its values bound by psycopg on the client (a
        `ClientCursor`). Any other statement in the block (a read, a peewee query) first sends
        what waits, so everything still runs in order, in the one transaction. A statement the
        server refuses raises (as peewee's error for it) at the commit, and nothing is kept."""
        batch = self._batch
        if batch.pending is not None:  # nested: the outer block sends
            with self.atomic():
                yield
            return
        batch.pending, batch.sent = [], False
        try:
            with self.atomic():
                yield
        finally:
            batch.pending = None

    def execute_later(self, sql: str, params=(), rows: list | None = None) -> None:
        """Run a write whose result is not read now: at once, or with the `atomic_writes()` block's
        other statements. `rows`, if given, receives what it returns once it has run."""
        if self._batch.pending is None:
            cursor = self.execute_sql(sql, params)
            if rows is not None:
                rows.extend(cursor.fetchall())
        else:
            self._batch.pending.append((sql, params, rows))

    def execute_sql(self, sql, params=None, **kwargs):
        self._send_pending()
        connection = self._scope_connection()
        if sql.startswith("ROLLBACK"):  # to a savepoint, too
            connection._psa_tenant = _UNKNOWN
        return super().execute_sql(sql, params, **kwargs)

    def _scope_connection(self):
        """The thread's connection, its `app.tenant_id` the tenant in context."""
        connection = self.connection()
        tenant = tenancy.tenant_or_none()
        if getattr(connection, "_psa_tenant", None) != tenant:  # a new connection has it unset
            with peewee.__exception_wrapper__, connection.cursor() as cursor:  # a dead connection: 503
                cursor.execute("SELECT set_config(%s, %s, false)", (TENANT_SETTING, str(tenant or "")))
            connection._psa_tenant = tenant
        return connection

    def begin(self, *args, **kwargs):
        if self._batch.pending is None or self._batch.sent:
            return super().begin(*args, **kwargs)
        self._batch.pending.append(("BEGIN", (), None))

    def commit(self):
        if self._batch.pending:
            self._batch.pending.append(("COMMIT", (), None))
            return self._send_pending()
        return super().commit()

    def rollback(self):
        batch = self._batch
        if batch.pending:
            batch.pending.clear()
        if batch.pending is None or batch.sent:
            self.connection()._psa_tenant = _UNKNOWN
            return super().rollback()
        return None  # nothing of the block reached the server

    def _send_pending(self) -> None:
        pending = self._batch.pending
        if not pending:
            return
        sql = ";\n".join(statement for statement, _, _ in pending)
        params = [value for _, values, _ in pending for value in values]
        wanted = [rows for _, _, rows in pending]
        pending.clear()
        self._batch.sent = True
        with peewee.__exception_wrapper__, psycopg.ClientCursor(self._scope_connection()) as cursor:
            cursor.execute(sql, params)
            if any(rows is not None for rows in wanted):
                for rows in wanted:  # one result per statement, in order
                    if rows is not None:
                        rows.extend(cursor.fetchall())
                    cursor.nextset()


class _Batch(threading.local):
    """This thread's `atomic_writes()` block: statements waiting to be sent (None outside a
    block), and whether any part of the block reached the server yet."""

    pending: list | None = None
    sent = False


# Plain postgresql:// URLs mean psycopg 3 with a pool: it is the driver we ship.
db_url.register_database(PostgresqlDatabase, "postgres", "postgresql")

log = logging.getLogger(__name__)

SQLITE_PRAGMAS = {
    "journal_mode": "wal",  # readers never block the writer; the CLI can write while serving
    "busy_timeout": 10_000,
    "foreign_keys": 1,
    "synchronous": "normal",
    "wal_autocheckpoint": 0,  # checkpoints run after the writer's turn: see SqliteDatabase.commit
}


class _WriterTurns:
    """One writer at a time across threads and processes, handed over by the kernel.

    SQLite's busy handler polls with sleeps of 1, 2, 5 ... 100 ms, so under concurrent writers a
    waiting request sleeps far longer than the transaction it waits for. `flock` on a file beside
    the database queues writers instead and wakes the next one at once. Each thread locks through
    its own open file (an flock belongs to one), so threads of a process queue in the kernel as
    processes do: with a thread lock in front, the writer handing its turn on woke the next thread
    while holding the GIL, and the process stood still for it (5 % of a worker's Python time
    during ticket creates). The lock dies with its process, so a killed worker never leaves it held.
    """

    def __init__(self, path: str | None):
        self.path = f"{path}.writer-lock" if path else None
        self.thread_lock = threading.Lock()  # an in-memory database has no file to lock
        self.files = _LockFiles()

    def acquire(self) -> None:
        if self.path is None:
            self.thread_lock.acquire()
        else:
            fcntl.flock(self._file().fileno(), fcntl.LOCK_EX)

    def release(self) -> None:
        if self.path is None:
            self.thread_lock.release()
        else:
            fcntl.flock(self._file().fileno(), fcntl.LOCK_UN)

    def _file(self):
        files = self.files
        if files.pid != os.getpid():  # a forked worker opens its own, or it would share the parent's lock
            files.file = open(self.path, "ab", opener=_private)  # noqa: SIM115  (kept for the thread's life)
            files.pid = os.getpid()
        return files.file


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


class _LockFiles(threading.local):
    """This thread's open lock file (closed when the thread ends), and the process that opened it."""

    file = None
    pid = None


class SqliteDatabase(PooledSqliteDatabase):
    """Pooled SQLite whose transactions begin IMMEDIATE and take turns (see `_WriterTurns`).

    SQLite's own automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL pages, so the
    writer holding the turn would copy them all back while every other writer waits. Instead,
    every `CHECKPOINT_EVERY` commits of a process, the committing thread runs a PASSIVE
    checkpoint before handing the turn on: a few dozen commits' pages, not a thousand.
    """

    CHECKPOINT_EVERY = 40
    WAL_RESTART_PAGES = 4_000  # about 16 MiB
    RESTART_WAIT_MS = 200  # for readers to leave the WAL; writers queue meanwhile

    def __init__(self, path: str, **kwargs):
        super().__init__(path, **kwargs)
        self.turns = _WriterTurns(None if path == ":memory:" else str(Path(path).resolve()))
        self.holder = threading.local()
        self.commits = itertools.count(1)

    def begin(self, lock_type=None):
        self.turns.acquire()
        self.holder.turn = True
        try:
            super().begin(lock_type)
        except BaseException:
            self._end_turn()
            raise

    def commit(self):
        try:
            super().commit()
            if next(self.commits) % self.CHECKPOINT_EVERY == 0:
                self._checkpoint()
        finally:
            self._end_turn()

    def _checkpoint(self) -> None:
        """Copy the WAL back in the writer's turn, so no writer adds pages meanwhile and the WAL is
        started over. Beside the next writer (until 2026-11-27) a checkpoint never caught up, so
        under sustained writes the WAL grew without end: 1.5 GB in 20 s of ticket creates from two
        gunicorn workers, every read slower for it. Past `WAL_RESTART_PAGES` (a reader still in
        the WAL kept it from starting over) it also waits briefly for readers to leave."""
        try:
            _, pages, _ = self.execute_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if pages >= self.WAL_RESTART_PAGES:
                self.execute_sql(f"PRAGMA busy_timeout = {self.RESTART_WAIT_MS}")
                try:
                    self.execute_sql("PRAGMA wal_checkpoint(RESTART)")
                finally:
                    self.execute_sql(f"PRAGMA busy_timeout = {SQLITE_PRAGMAS['busy_timeout']}")
        except peewee.DatabaseError as error:
            # the request's change is committed: an error now would invite a client to send it
            # again; a later commit tries the checkpoint again
            log.warning("WAL checkpoint failed: %s", error)

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._end_turn()

    def _end_turn(self) -> None:
        if getattr(self.holder, "turn", False):
            self.holder.turn = False
            self.turns.release()


# A request finding every pooled connection taken waits this long for one to come back: peewee's
# default raised at once, and `psa serve` (a thread per request, unbounded) answered 500 to the
# 21st concurrent request on PostgreSQL until 2026-11-27. Past it, the request is a 503.
POOL_WAIT_SECONDS = 10


class DatabaseUrlError(ValueError):
    """A database URL PSA Core cannot open whatever the server does: a scheme it does not serve
    (`mysql://`, a path without `sqlite:///`), one that does not parse, or a SQLite file whose
    directory cannot be made. `url` is the one at fault where it is not the URL being bound (the
    serving role's, refused while the schema's owner grants it rows)."""

    def __init__(self, message: str, url: str | None = None):
        super().__init__(message)
        self.url = url


class DatabaseRefused(peewee.PeeweeException):
    """The server refused the connection for a reason waiting cannot change: a database or role
    that does not exist, a wrong password (SQLSTATE 3D000, 28000, 28P01). Until 2026-11-28 a start
    tried such a URL again for all of `PSA_DATABASE_WAIT_SECONDS`. Not an OperationalError (nor
    a DatabaseError, which peewee would wrap as its base), so nothing takes it for an outage to
    wait out at start; a request meeting it later is a 503 still (`DATABASE_DOWN`)."""


# What a request answers 503 for, and a consumer waits out: the database cannot be reached now.
DATABASE_DOWN = (peewee.OperationalError, peewee.InterfaceError, DatabaseRefused)

# libpq gives a refused connection no SQLSTATE, only the server's FATAL line (in English unless the
# server's lc_messages says otherwise: another language is then waited out as an outage is).
_REFUSAL = re.compile(
    r'FATAL:\s+(database ".*" does not exist|role ".*" does not exist|role ".*" is not permitted to log in'
    r"|password authentication failed)"
)


def open_database(url: str) -> peewee.Database:
    """A peewee Database for a URL: `sqlite:///path` or `postgresql://host/name`. Any other is a
    `DatabaseUrlError` (until 2026-11-27 playhouse's: a RuntimeError, or, for a scheme whose
    driver is missing, `ImproperlyConfigured` at the first query)."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise DatabaseUrlError(f"cannot make {Path(path).parent} ({error.strerror})") from error
        # BEGIN IMMEDIATE: a deferred transaction that reads, then writes after another connection
        # committed, fails at once with "database is locked" (busy_timeout cannot help it).
        # Pooled: "close" after a request keeps the connection, since SQLite checkpoints the WAL
        # (milliseconds of I/O) each time the last connection to a file really closes.
        return SqliteDatabase(
            path,
            pragmas=SQLITE_PRAGMAS,
            lock_type="IMMEDIATE",
            check_same_thread=False,
            max_connections=32,
            stale_timeout=300,
            timeout=POOL_WAIT_SECONDS,
        )
    try:
        scheme = urlsplit(url).scheme
        if scheme in ("postgres", "postgresql"):  # what is registered above
            return db_url.connect(
                url, max_connections=20, stale_timeout=300, timeout=POOL_WAIT_SECONDS, autoconnect=True
            )
    except ValueError as error:  # a port that is no number, a broken [IPv6] host
        raise DatabaseUrlError(f"not a database URL ({error})") from None
    raise DatabaseUrlError(f"unsupported scheme {scheme!r} (sqlite:/// or postgresql://)")


def _enforce_row_security(database, tables: list[str]) -> None:
    """Tenant rows only, for the tables' owner too (FORCE): superusers and BYPASSRLS roles are
    the only ones who skip it, so the app connects as neither (docs/foundation.md). Only what is
    missing is changed: each ALTER locks its table against every query until commit."""
    found = database.execute_sql(
        "SELECT c.relname, c.relrowsecurity AND c.relforcerowsecurity, p.policyname IS NOT NULL FROM pg_class c "
        "LEFT JOIN pg_policies p ON p.schemaname = current_schema() AND p.tablename = c.relname AND p.policyname = %s "
        "WHERE c.relname = ANY(%s) AND c.relnamespace = current_schema()::regnamespace",
        (TENANT_POLICY, tables),
    ).fetchall()
    for table, forced, has_policy in found:
        if not has_policy:
            database.execute_sql(_POLICY.format(table=table))
        if not forced:
            database.execute_sql(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY')


def model_bases(db: ServiceDatabase) -> tuple[type[TenantModel], type[peewee.Model]]:
    """A service's two model bases bound to its database: tenant-owned (`Model`) and the short
    list of tables above tenants (`GlobalModel`).

    `save()` writes only the columns the code changed (`only_save_dirty`): a row read before
    another writer committed (billing marking an entry billed, a deactivation, time logged on a
    task) would otherwise write that writer's columns back as they were read."""

    class Model(TenantModel):
        __abstract__ = True

        class Meta:
            database = db.proxy
            only_save_dirty = True

    class GlobalModel(peewee.Model):
        __abstract__ = True

        class Meta:
            database = db.proxy
            only_save_dirty = True

    return Model, GlobalModel


EXPECT_SQLSTATE = "PSA01"
EXPECT_FUNCTION = f"""CREATE OR REPLACE FUNCTION psa_expect(ok boolean, what text) RETURNS boolean
LANGUAGE plpgsql AS $$ BEGIN
  IF NOT ok THEN RAISE EXCEPTION USING ERRCODE = '{EXPECT_SQLSTATE}', MESSAGE = what; END IF;
  RETURN true;
END $$"""


def _casefold(text: str | None) -> str | None:
    return None if text is None else text.casefold()


def casefolded(column) -> peewee.Function:
    """`column` casefolded, on SQLite (see `ServiceDatabase.contains`)."""
    return peewee.fn.psa_casefold(column)


UNDEFINED_OBJECT = "42704"  # a GRANT to a role that does not exist


def _serving_role(url: str) -> str:
    """The role a serving URL beside a schema URL connects as: the owner grants it rows, so it is
    PostgreSQL's and names its role (until 2026-11-28 `mysql://x@y/z` was granted to `x`, and the
    grant's failure a traceback)."""
    try:
        scheme, role = urlsplit(url).scheme, urlsplit(url).username
    except ValueError as error:
        raise DatabaseUrlError(f"not a database URL ({error})", url) from None
    if scheme not in ("postgres", "postgresql"):
        raise DatabaseUrlError(f"unsupported scheme {scheme!r} beside a PostgreSQL schema URL (postgresql://)", url)
    if not role:
        raise DatabaseUrlError("a database URL beside a schema URL must name its role", url)
    return role


class ServiceDatabase:
    """The database one service owns: a proxy its models bind to, and the models registered on it."""

    MAX_NAME = 63  # PostgreSQL keeps the first 63 bytes of a longer name (peewee's are ASCII): compare those

    def __init__(
        self,
        service: str,
        retired_indexes: tuple[str, ...] = (),
        added_columns: tuple[str, ...] = (),
        upgrades: tuple[str, ...] = (),
        append_only: tuple[str, ...] = (),
        sqlite_functions: dict | None = None,
    ):
        self.service = service
        self.proxy = peewee.DatabaseProxy()
        self.url: str | None = None  # the URL bound last (or being bound): a failing start names it
        self.retired_indexes = retired_indexes
        self.added_columns = added_columns  # "table.column" of nullable fields later versions added
        self.upgrades = upgrades
        self.append_only = append_only  # tables the serving role may read and add to, never change
        # SQL functions PostgreSQL has (or the service makes with its schema) and SQLite lacks, by name
        self.sqlite_functions = sqlite_functions or {}

    @property
    def models(self) -> list[type[peewee.Model]]:
        """Every concrete model whose Meta.database is this service's proxy, in dependency order."""
        found, todo = [], list(peewee.Model.__subclasses__())
        while todo:
            model = todo.pop()
            todo.extend(model.__subclasses__())
            if model._meta.database is self.proxy and "__abstract__" not in model.__dict__:
                found.append(model)
        return peewee.sort_models(found)

    def bind(self, url: str) -> peewee.Database:
        if self.bound and hasattr(self.proxy.obj, "close_all"):
            self.proxy.obj.close_all()  # a pool from an earlier binding (tests rebind per case)
        self.url = url
        database = open_database(url)
        if isinstance(database, peewee.SqliteDatabase):
            for name, function in {"psa_casefold": _casefold, **self.sqlite_functions}.items():
                database.register_function(function, name, deterministic=True)
        self.proxy.initialize(database)
        return database

    def folds_case(self, text: str) -> bool:
        """Whether the database's ILIKE ignores the case of every letter of `text`. SQLite's LIKE
        folds ASCII letters alone (`école` did not find "École" until 2026-11-27)."""
        return text.isascii() or self.is_postgres

    def contains(self, column, text: str) -> peewee.Expression:
        """`column` holds `text` anywhere, case ignored, each character literally (peewee escapes
        `%`, `_` and `\\`). Where the database cannot fold `text`, both sides are casefolded by
        Python, row by row: slower, so an ASCII search keeps the plain LIKE."""
        if self.folds_case(text):
            return column.contains(text)
        return casefolded(column).contains(text.casefold())

    @property
    def bound(self) -> bool:
        return self.proxy.obj is not None

    @property
    def is_postgres(self) -> bool:
        return isinstance(self.proxy.obj, peewee.PostgresqlDatabase)

    def create_tables(self) -> None:
        """Make the tables and indexes that are missing. Only those: `CREATE INDEX IF NOT EXISTS`
        locks its table against writes before it finds the index there, so running one per index
        at every start held writes up until the commit, and a request already holding one table
        while wanting another deadlocked with it (503s while a worker restarted under load)."""
        with self.proxy.connection_context(), self.proxy.atomic():
            self._schema_turn()  # workers starting together must not race on CREATE INDEX
            tables, indexes = set(self.proxy.get_tables()), self._index_names()
            for model in self.models:
                if model._meta.table_name not in tables:
                    model.create_table(safe=True)
                    continue
                self._add_columns(model)
                for index in model._meta.fields_to_index():
                    if index._name[: self.MAX_NAME] not in indexes:
                        self.proxy.execute(model._schema._create_index(index, safe=True))
            for name in self.retired_indexes:  # indexes earlier versions made, dropped from the models
                if name[: self.MAX_NAME] in indexes:
                    self.proxy.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
            for statement in self.upgrades:  # rows of earlier versions brought up to date: rerun safely
                self.proxy.execute_sql(statement)
            if self.is_postgres:
                tenant_tables = [m._meta.table_name for m in self.models if issubclass(m, TenantModel)]
                _enforce_row_security(self.proxy, tenant_tables)
                # services sharing a schema make it at once: "tuple concurrently updated" otherwise
                self.proxy.execute_sql("SELECT pg_advisory_xact_lock(hashtext('psa_expect'))")
                self.proxy.execute_sql(EXPECT_FUNCTION)

    def _add_columns(self, model: type[peewee.Model]) -> None:
        """Adds those of `added_columns` that `model`'s table, made by an earlier version, lacks.
        They are nullable: the rows already there hold NULL."""
        table = model._meta.table_name
        wanted = [f for f in model._meta.sorted_fields if f"{table}.{f.column_name}" in self.added_columns]
        if not wanted:
            return
        present = {column.name for column in self.proxy.get_columns(table)}
        migrator = SchemaMigrator.from_database(self.proxy.obj)
        for field in wanted:
            if field.column_name not in present:
                migrate(migrator.add_column(table, field.column_name, field))

    @staticmethod
    def expected(error: peewee.DatabaseError) -> str | None:
        """What `psa_expect(ok, what)` found not so, when it refused the statement behind `error`.
        `psa_expect` is PostgreSQL's check inside a write that must not go on when it fails: it
        raises (its message `what`), which aborts an `atomic_writes()` block's one message. On
        SQLite a statement returns the check itself, for the caller to read and roll back."""
        cause = getattr(error, "orig", None)  # the driver's error peewee wrapped
        if getattr(cause, "sqlstate", None) == EXPECT_SQLSTATE:
            return cause.diag.message_primary
        return None

    def _index_names(self) -> set[str]:
        if self.is_postgres:
            sql = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'index'"
        return {name[: self.MAX_NAME] for (name,) in self.proxy.execute_sql(sql).fetchall()}

    def grant_rows(self, url: str) -> None:
        """Let the role `url` connects as read and write rows of every table, and nothing more:
        it cannot change the schema, drop a policy, or empty a table past row-level security."""
        if not self.is_postgres:
            return
        role = _serving_role(url)
        with self.proxy.connection_context(), self.proxy.atomic():
            self._schema_turn()  # two GRANTs on one table at once: "tuple concurrently updated"
            (schema,) = self.proxy.execute_sql("SELECT current_schema()").fetchone()
            grants = [
                "GRANT USAGE ON SCHEMA {schema} TO {role}",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
                "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
            ]
            grants += [f'REVOKE UPDATE, DELETE ON {{schema}}."{name}" FROM {{role}}' for name in self.append_only]
            for grant in grants:
                statement = psycopg.sql.SQL(grant).format(
                    schema=psycopg.sql.Identifier(schema), role=psycopg.sql.Identifier(role)
                )
                try:
                    self.proxy.execute_sql(statement.as_string(self.proxy.connection()))
                except peewee.ProgrammingError as error:  # until 2026-11-28 a traceback at start
                    if getattr(error.orig, "sqlstate", None) == UNDEFINED_OBJECT:
                        raise DatabaseUrlError(f"role {role!r} does not exist", url) from error
                    raise

    def _schema_turn(self) -> None:
        """Until the transaction ends, the only process changing this service's schema."""
        if self.is_postgres:
            self.proxy.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"psa-schema-{self.service}",))

    def drop_tables(self) -> None:
        with self.proxy.connection_context():
            self.proxy.drop_tables(self.models, safe=True, cascade=self.is_postgres)

    def truncate(self) -> None:
        """Empty every table (tests reuse one PostgreSQL database across cases)."""
        with self.proxy.connection_context(), self.proxy.atomic():
            if self.is_postgres:
                names = ", ".join(f'"{m._meta.table_name}"' for m in self.models)
                self.proxy.execute_sql(f"TRUNCATE {names} CASCADE")
            else:
                for model in reversed(self.models):
                    self.proxy.execute_sql(f'DELETE FROM "{model._meta.table_name}"')

    def locked(self, query: peewee.SelectQuery) -> peewee.SelectQuery:
        """`query` taking its rows' locks on PostgreSQL, for a transaction that decides from what
        it reads (is the entry billed? by how much do its minutes move?): a concurrent writer of
        those rows then commits first or waits. SQLite needs none: its transactions begin
        IMMEDIATE, holding the database before they read.

        The lock is `FOR NO KEY UPDATE`, the one an UPDATE takes itself, not `FOR UPDATE`: that
        one also waits for every transaction whose new row's foreign key points at the locked
        one (each holds `FOR KEY SHARE` on it). Until 2026-11-28 two calls logged at once on a
        waiting ticket each inserted its entry, then one waited for the other's foreign key while
        the other waited for its update of the ticket: a deadlock, answered 503."""
        return query.for_update("FOR NO KEY UPDATE") if self.is_postgres else query

    def atomic_writes(self):
        """`atomic()` for a transaction of writes run with `Statement.run`: on PostgreSQL they go
        to the server in one round trip with the BEGIN and COMMIT (`PostgresqlDatabase`)."""
        database = self.proxy.obj
        return database.atomic_writes() if isinstance(database, PostgresqlDatabase) else database.atomic()

    def close(self) -> None:
        if self.bound and not self.proxy.is_closed():
            self.proxy.close()

    def init_app(self, app) -> None:
        """A request takes a pooled connection at its first query (peewee's autoconnect) and gives it
        back on teardown. Until 2026-11-28 it took one before anything else, so a client sending its
        body slowly held one meanwhile: 32 of them, needing no token, made every other request wait
        for the pool and answer 503, and the relay of `psa serve` with them."""

        @app.teardown_request
        def _close(exc):
            self.close()
