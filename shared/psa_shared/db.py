"""Database binding: each service owns one database, bound at start-up, never at import."""

from __future__ import annotations

from pathlib import Path

import peewee
from playhouse import db_url
from playhouse.pool import PooledSqliteDatabase
from playhouse.postgres_ext import PooledPsycopg3Database

from .tenancy import TenantModel

# Plain postgresql:// URLs mean psycopg 3 with a pool: it is the driver we ship.
db_url.register_database(PooledPsycopg3Database, "postgres", "postgresql")

SQLITE_PRAGMAS = {
    "journal_mode": "wal",  # readers never block the writer; the CLI can write while serving
    "busy_timeout": 10_000,
    "foreign_keys": 1,
    "synchronous": "normal",
}


def open_database(url: str) -> peewee.Database:
    """A peewee Database for a URL: `sqlite:///path` or `postgresql://host/name`."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # BEGIN IMMEDIATE: a deferred transaction that reads, then writes after another connection
        # committed, fails at once with "database is locked" (busy_timeout cannot help it).
        # Pooled: "close" after a request keeps the connection, since SQLite checkpoints the WAL
        # (milliseconds of I/O) each time the last connection to a file really closes.
        return PooledSqliteDatabase(
            path,
            pragmas=SQLITE_PRAGMAS,
            lock_type="IMMEDIATE",
            check_same_thread=False,
            max_connections=32,
            stale_timeout=300,
        )
    return db_url.connect(url, max_connections=20, stale_timeout=300, autoconnect=True)


def model_bases(db: ServiceDatabase) -> tuple[type[TenantModel], type[peewee.Model]]:
    """A service's two model bases bound to its database: tenant-owned (`Model`) and the short
    list of tables above tenants (`GlobalModel`)."""

    class Model(TenantModel):
        __abstract__ = True

        class Meta:
            database = db.proxy

    class GlobalModel(peewee.Model):
        __abstract__ = True

        class Meta:
            database = db.proxy

    return Model, GlobalModel


class ServiceDatabase:
    """The database one service owns: a proxy its models bind to, and the models registered on it."""

    def __init__(self, service: str):
        self.service = service
        self.proxy = peewee.DatabaseProxy()

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
        database = open_database(url)
        self.proxy.initialize(database)
        return database

    @property
    def bound(self) -> bool:
        return self.proxy.obj is not None

    @property
    def is_postgres(self) -> bool:
        return isinstance(self.proxy.obj, peewee.PostgresqlDatabase)

    def create_tables(self) -> None:
        with self.proxy.connection_context(), self.proxy.atomic():
            if self.is_postgres:  # workers starting together must not race on CREATE INDEX
                self.proxy.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"psa-schema-{self.service}",))
            self.proxy.create_tables(self.models, safe=True)

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

    def close(self) -> None:
        if self.bound and not self.proxy.is_closed():
            self.proxy.close()

    def init_app(self, app) -> None:
        """Connect per request, close on teardown (peewee's flask_utils pattern)."""

        @app.before_request
        def _connect():
            self.proxy.connect(reuse_if_open=True)

        @app.teardown_request
        def _close(exc):
            self.close()
