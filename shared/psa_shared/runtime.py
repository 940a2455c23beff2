"""The whole system in one process: every installed service behind one WSGI router, with its
outbox relay, event consumer and periodic jobs on threads (embedded mode, tests, `psa serve`)."""

from __future__ import annotations

import gc
import json
import logging
import threading
from urllib.parse import urlsplit

import kombu
import peewee
from amqp.exceptions import AccessRefused, IrrecoverableConnectionError
from kombu.exceptions import OperationalError as BrokerDown
from werkzeug.wrappers import Response

from . import bus, plugins
from .config import Settings
from .db import DatabaseRefused, DatabaseUrlError
from .errors import problem_response
from .services import Periodic, Service, discover_services
from .watermark import Watermarks

log = logging.getLogger(__name__)
DATABASE_START_ERRORS = (
    DatabaseUrlError,
    DatabaseRefused,
    peewee.ImproperlyConfigured,
    peewee.OperationalError,
    peewee.InterfaceError,
)
INSUFFICIENT_PRIVILEGE = "42501"  # the serving role, unset the schema URL, may not make the schema


class StartupError(Exception):
    """What keeps a process from starting, in one line for its operator: the setting at fault,
    never a password. The CLI prints it without a traceback (`psa_shared.cli.PsaGroup`)."""


class Router:
    """Routes a request to the service owning the longest matching path prefix."""

    def __init__(self, apps: dict[str, tuple[tuple[str, ...], object]]):
        self.apps = {name: app for name, (_, app) in apps.items()}
        self.routes = sorted(
            ((prefix.rstrip("/"), app) for _, (prefixes, app) in apps.items() for prefix in prefixes),
            key=lambda route: len(route[0]),
            reverse=True,
        )

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        if path == "/healthz":
            return self._healthz(environ)(environ, start_response)
        app = self._app_for(path)
        if app is None:
            response = problem_response(404, "Not found", f"no service serves {path}")
            return response(environ, start_response)
        return app(environ, start_response)

    def _app_for(self, path: str):
        if path.startswith("/openapi/"):
            return self.apps.get(path.removeprefix("/openapi/").removesuffix(".json"))
        if path in ("/metrics", "/readyz") and self.apps:
            return next(iter(self.apps.values()))  # process-wide metrics; every db checked at start
        for prefix, app in self.routes:
            if path == prefix or path.startswith(prefix + "/"):
                return app
        return None

    def _healthz(self, environ) -> Response:
        """GET and HEAD, as a service's own /healthz takes (a Response sends HEAD no body); until
        2026-11-27 every method got the 200 and its body, a HEAD too."""
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return problem_response(
                405, "Method Not Allowed", "/healthz takes GET or HEAD", headers={"Allow": "GET, HEAD"}
            )
        return Response(json.dumps({"status": "ok", "services": sorted(self.apps)}), mimetype="application/json")


class System:
    """Settings plus every installed service, bound to their databases."""

    def __init__(self, settings: Settings, services: list[Service] | None = None):
        self.settings = settings
        self.services = services if services is not None else discover_services()
        self.loops: list[bus.BackgroundLoop] = []
        self.consuming: list[bus.Consumer] = []  # the consumers `loops` run, first in it
        self.relaying: list[bus.Relay] = []
        self.watermarks = Watermarks(settings, self.services) if settings.embedded else None

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def bind(self) -> System:
        """Every service bound (`Service.bind`, which waits for a database it cannot reach yet). A
        URL that cannot work, or a database still away after the wait, is a `StartupError`
        naming its variable: until 2026-11-27 the CLI printed the driver's traceback."""
        for service in self.services:
            try:
                service.bind(self.settings)
            except DATABASE_START_ERRORS as error:
                url = getattr(error, "url", None) or service.db.url  # a serving URL refused at its grant
                raise StartupError(database_trouble(self.settings, service.name, url, error)) from error
            except peewee.ProgrammingError as error:
                if getattr(error.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
                    raise
                raise StartupError(schema_refused(self.settings, service.name, service.db.url, error)) from error
        return self

    def first_run(self) -> list[str]:
        """Seed demo data where a service has none yet; returns what to tell the user. Embedded mode
        only (`make run`): until 2026-11-28 `make up` made the demo tenant too, and every start logged
        a 12-hour admin token for it."""
        if not self.settings.embedded:
            return []
        notes = []
        for service in self.services:
            if service.on_first_run is not None:
                note = service.on_first_run(self.settings)
                if note:
                    notes.append(note)
        return notes

    def wsgi(self) -> Router:
        return Router({s.name: (s.prefixes, s.app_factory(self.settings)) for s in self.services})

    def serving_wsgi(self) -> Router:
        """`wsgi()` for a server: what starting made (apps, schemas, models, the OpenAPI spec) lives
        as long as the process, so it leaves the cyclic collector's generations (`gc.freeze`)
        instead of being walked again by every full collection (4-5 % more ticket creates, time
        entries and list pages a second on SQLite under the benchmark's load)."""
        router = self.wsgi()
        gc.collect()  # what starting left as garbage goes now, not into the frozen set
        gc.freeze()
        return router

    def relays(self) -> list[bus.Relay]:
        return [s.relay(self.settings) for s in self.services]

    def consumers(self) -> list[bus.Consumer]:
        """Each service's own consumer, and one per plugin where plugins run (`Service.consumers`)."""
        return [c for s in self.services for c in s.consumers(self.settings)]

    def declare_queues(self) -> None:
        """Our consumers' queues, and every other installed service's: a relay here publishes to
        them, and RabbitMQ drops what no queue is bound for. Until 2026-11-27 a worker declared
        its own queue alone, so on a fresh deployment what `psa worker tickets` relayed before
        `psa worker docs_vault` had ever run was lost (held as sent), and the vault refused those
        members and clients for good. Another service's queue is bound for its own handlers' types
        and for the types installed plugins declare in their metadata (`psa.event_types`), read
        without importing any plugin: none may run in a process it is not allowed in (the
        vault's). Until 2026-11-27 it got no plugin's types, and what only a plugin wanted was lost
        when relayed before that plugin's worker first ran (tests/shared/test_plugin_bindings.py).
        Those types are now bound to each declaring plugin's own queue (`plugin.<name>.events`)."""
        ours = {service.name for service in self.services}
        with plugins.declarations_only():
            others = [c for s in discover_services() if s.name not in ours for c in s.consumers(self.settings)]
        with bus.connect(self.settings) as connection:
            reach_broker(connection, self.settings)
            for consumer in self.consumers() + others:
                consumer.declare(connection)

    def periodic_loops(self) -> list[bus.BackgroundLoop]:
        return [periodic_loop(job) for s in self.services for job in s.periodic(self.settings)]

    def start_workers(self) -> None:
        """Every installed service's queues first, so nothing a relay publishes falls on the floor.
        In embedded mode, what memory:// may have held when the process last died is relayed again
        first (`psa_shared.watermark`)."""
        self.declare_queues()
        if self.watermarks is not None:
            self.watermarks.replay()
        self.consuming, self.relaying = self.consumers(), self.relays()
        self.loops = [bus.consumer_loop(c) for c in self.consuming] + [bus.relay_loop(r) for r in self.relaying]
        self.loops += self.periodic_loops()
        if self.watermarks is not None:
            self.loops.append(watermark_loop(self.watermarks, self.consuming, self.relaying))
        for loop in self.loops:
            loop.start()

    def stop_workers(self) -> None:
        """Relays and jobs first, then the consumers; in embedded mode these apply what is still
        queued before they stop, and the watermark moves past all of it. A memory:// queue dies
        with the process while the outbox holds its events as sent: stopped all at once, the
        consumers left behind what the relay had just published (a client made a second before
        Ctrl-C never reached the vault). A process killed outright (kill -9) cannot
        drain: its next start relays again what was published since the watermark, and the
        consumers skip what they had (`psa_shared.watermark`; tests/shared/test_embedded_kill.py,
        a client added just before kill -9 reaches the vault after the restart, failed before)."""
        consumers = self.loops[: len(self.consuming)]
        _stop(self.loops[len(self.consuming) :])
        _stop(consumers)
        if self.settings.embedded and self.consuming:
            with bus.connect(self.settings) as connection:
                for consumer in self.consuming:
                    consumer.consume(connection, until_idle=0.2)
        if self.watermarks is not None and self.relaying:
            self.watermarks.advance(self.consuming, self.relaying)
        self.loops, self.consuming, self.relaying = [], [], []


def database_trouble(settings: Settings, service: str, url: str | None, error: BaseException) -> str:
    """One line on why `service` could not bind to `url`, naming the variable that set it."""
    schema_url = settings.schema_url(service)
    variable = f"PSA_{service.upper()}_{'SCHEMA' if url and url == schema_url else 'DATABASE'}_URL"
    if variable not in settings.env:  # the default: a SQLite file under PSA_DATA_DIR
        variable = f"{variable} (unset: {url})"
    reason = _first_line(error, url)
    if isinstance(error, (peewee.OperationalError, peewee.InterfaceError)):
        waited = settings.get("PSA_DATABASE_WAIT_SECONDS", "20")
        reason = f"{reason} (still so after PSA_DATABASE_WAIT_SECONDS={waited})"
    return f"{variable}: {reason}"


def schema_refused(settings: Settings, service: str, url: str | None, error: BaseException) -> str:
    """One line for a role that may not bring the schema up to date, as every command does at start
    (`psa tickets sweep` run by cron with the serving role alone: until 2026-11-28 a traceback)."""
    line = database_trouble(settings, service, url, error)
    if settings.schema_url(service) is None:
        owner = f"PSA_{service.upper()}_SCHEMA_URL"
        line += f": set {owner} to the role owning the tables, beside this one (every command needs both)"
    return line


def _first_line(error: BaseException, url: str | None) -> str:
    """The error's first line, any password of `url` in it masked (drivers may echo what they parse)."""
    text = next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)
    try:
        password = urlsplit(url or "").password
    except ValueError:  # a URL that does not parse holds no password we could find
        password = None
    return text.replace(password, "**") if password else text


def broker_wait_seconds(settings: Settings) -> float:
    value = settings.get("PSA_BROKER_WAIT_SECONDS", "20")
    try:
        return float(value)
    except ValueError:
        raise StartupError(f"PSA_BROKER_WAIT_SECONDS: a number of seconds, not {value!r}") from None


def reach_broker(connection: kombu.Connection, settings: Settings) -> None:
    """Connect, trying again with growing pauses (up to 2 s) for up to `PSA_BROKER_WAIT_SECONDS`
    (default 20): RabbitMQ may still be starting beside the workers (compose starts them after
    it, not once it is ready). A refused login is not tried again. Until 2026-11-27 a worker
    started before RabbitMQ exited at once with a traceback."""
    if settings.embedded:  # memory:// lives in this process: nothing to wait for (kombu would warn it has no host)
        return
    seconds = broker_wait_seconds(settings)
    where = connection.as_uri()  # the password masked

    def trying_again(error: Exception, interval: float) -> None:
        log.warning("RabbitMQ not reachable at %s (%s); trying again in %.2g s", where, error, interval)

    try:
        connection.ensure_connection(
            errback=trying_again,
            max_retries=None if seconds > 0 else 0,  # kombu reads a timeout of 0 as none at all
            timeout=seconds,
            interval_start=0.25,
            interval_step=0.5,
            interval_max=2,
        )
    except AccessRefused as error:
        raise StartupError(
            f"RabbitMQ refused the login for user {connection.userid} at {_address(connection)}: check PSA_BROKER_URL"
        ) from error
    except IrrecoverableConnectionError as error:  # a virtual host that does not exist, say
        raise StartupError(
            f"RabbitMQ at {_address(connection)} refused the connection ({error.reply_text}): check PSA_BROKER_URL"
        ) from error
    except (BrokerDown, OSError) as error:
        raise StartupError(
            f"RabbitMQ not reachable at {where} ({_first_line(error, settings.broker_url)}) "
            f"after PSA_BROKER_WAIT_SECONDS={seconds:g}: check PSA_BROKER_URL and that RabbitMQ runs"
        ) from error


def _address(connection: kombu.Connection) -> str:
    return f"{connection.hostname}:{connection.port or connection.transport.default_port}"


def _stop(loops: list[bus.BackgroundLoop]) -> None:
    for loop in loops:
        loop.stop()
    for loop in loops:
        if loop.ident is not None:  # a stop signal may come while they are being started
            loop.join(timeout=5)


def watermark_loop(
    watermarks: Watermarks, consumers: list[bus.Consumer], relays: list[bus.Relay], seconds: float = 1.0
) -> bus.BackgroundLoop:
    def step(stop: threading.Event) -> None:
        watermarks.advance(consumers, relays)
        stop.wait(seconds)

    return bus.BackgroundLoop("embedded-watermark", step)


def periodic_loop(job: Periodic) -> bus.BackgroundLoop:
    """`job.run()` at once, then every `job.seconds` until stopped; a pass that raises is logged."""

    def step(stop: threading.Event) -> None:
        try:
            done = job.run()
        except Exception:  # noqa: BLE001  (whatever broke this pass, the next one runs on time)
            log.exception("%s failed; next pass in %s s", job.name, job.seconds)
        else:
            if done is not None:
                log.info("%s: %s", job.name, done)
        stop.wait(job.seconds)

    return bus.BackgroundLoop(job.name, step)
