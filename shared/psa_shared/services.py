"""How a service registers itself (`psa.services` entry points), so psa_shared never imports one."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

import click
import peewee
from flask import Flask

from . import plugins
from .bus import Consumer, Handler, Relay
from .config import Settings
from .db import ServiceDatabase
from .outbox import Inbox, Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    """A job a service's worker runs every `seconds`, first at start: `run()` makes one pass (over
    every tenant, say) and returns what to log. Several workers may run it at once, so a pass
    must be safe beside another (lock what it decides on). A pass that raises is logged and the
    next one runs on time: one bad night does not stop the job for good."""

    name: str
    seconds: float
    run: Callable[[], object]


@dataclass
class Service:
    """A service as the runner, the CLI and the tests see it.

    Args:
        name: short name; also its database (`PSA_<NAME>_DATABASE_URL`) and exchange (`<name>.events`).
        prefixes: URL path prefixes it owns, routed by longest match.
        db, outbox, inbox: its own database and the event tables in it.
        app_factory: builds its Flask app from Settings, after the database is bound.
        handlers: given Settings, returns `{event type: handler(event, payload)}` for what it consumes.
        commands: click commands and groups added to the root `psa` command (`psa tenant ...`).
        on_first_run: seeds demo data in an empty embedded install; returns what to print.
        periodic: given Settings, the jobs its worker runs on a timer (`Periodic`), beside the
            relay and the consumer (`psa worker <name>`, and `psa serve` for every service).
        runs_plugins: its worker runs plugins' `psa_on_event`, each plugin on a queue, consumer
            and inbox record of its own (`consumers`). One service does: the tickets service.
        plugin_enabled: `enabled(tenant_id, plugin, at=None)`, asked in the tenant's scope with a
            connection open: False when the tenant has the plugin switched off (or, given an
            event's moment `at`, had it off then), whose `psa_on_event` then skips that tenant's
            events (recorded as applied) and whose blueprint's authenticated views answer 404 to
            its members. None: every plugin serves every tenant.
    """

    name: str
    prefixes: tuple[str, ...]
    db: ServiceDatabase
    outbox: Outbox
    inbox: Inbox
    app_factory: Callable[[Settings], Flask]
    handlers: Callable[[Settings], dict[str, Handler]] = lambda settings: {}
    commands: tuple[click.Command, ...] = ()
    on_first_run: Callable[[Settings], str | None] | None = None
    periodic: Callable[[Settings], tuple[Periodic, ...]] = lambda settings: ()
    runs_plugins: bool = False
    plugin_enabled: Callable[..., bool] | None = None

    def bind(self, settings: Settings) -> None:
        """Bind to the database, the schema brought up to date first (by its owner, if one is set).

        A database that cannot be reached (restarting, or its connection dropped midway) is tried
        again for up to `PSA_DATABASE_WAIT_SECONDS` (default 20) before the error is raised: a
        gunicorn worker that fails to start takes the whole server down with it, so a worker
        replaced during a database restart waits for the database instead."""
        deadline = time.monotonic() + float(settings.get("PSA_DATABASE_WAIT_SECONDS", "20"))
        pause = 0.25
        while True:
            try:
                return self._bind(settings)
            except (peewee.OperationalError, peewee.InterfaceError) as error:
                if time.monotonic() + pause > deadline:
                    raise
                log.warning("%s: database not reachable at start (%s); trying again", self.name, error)
                time.sleep(pause)
                pause = min(pause * 2, 2.0)

    def _bind(self, settings: Settings) -> None:
        url, owner_url = settings.database_url(self.name), settings.schema_url(self.name)
        self.db.bind(owner_url or url)
        self.prepare_schema()
        if owner_url:
            self.db.grant_rows(url)
            self.db.bind(url)

    def prepare_schema(self) -> None:
        """Tables, indexes and row-level security; a service adds what else its schema holds."""
        self.db.create_tables()

    def relay(self, settings: Settings) -> Relay:
        return Relay(settings, self.outbox, self.name)

    def consumers(self, settings: Settings) -> list[Consumer]:
        """Its own consumer first (if it has handlers), then one per plugin if it runs plugins:
        a plugin failing on an event retries and dead-letters it on its own queue, while the
        service's own effect and the other plugins have applied it once."""
        handlers = self.handlers(settings)
        listeners = plugins.listeners(settings) if self.runs_plugins else []
        theirs = frozenset(t for listener in listeners for t in listener.binds) - handlers.keys()
        found = [Consumer(settings, self.name, self.inbox, handlers, elsewhere=theirs)] if handlers else []
        for listener in listeners:
            if self.plugin_enabled is not None:
                listener = listener.where_enabled(self.plugin_enabled)
            name = plugins.queue_name(listener.name)
            inbox = self.inbox.for_consumer(name)  # one table, records of its own (Inbox)
            found.append(
                Consumer(settings, self.name, inbox, listener.handlers, name=name, binds=listener.binds, calls_out=True)
            )
        return found


def discover_services() -> list[Service]:
    """Every installed service, by name; refuses two services claiming overlapping prefixes."""
    services = sorted((ep.load() for ep in entry_points(group="psa.services")), key=lambda s: s.name)
    check_prefixes(services)
    return services


def check_prefixes(services: list[Service]) -> None:
    owner: dict[str, str] = {}
    for service in services:
        for prefix in service.prefixes:
            for other, name in owner.items():
                if name != service.name and (prefix == other or _nested(prefix, other) or _nested(other, prefix)):
                    raise RuntimeError(f"{service.name} and {name} both claim {prefix} / {other}")
            owner[prefix] = service.name


def _nested(inner: str, outer: str) -> bool:
    return inner.startswith(outer.rstrip("/") + "/")
