"""The message bus over kombu: outbox relay (publisher confirms) and idempotent consumers.

Topology: a topic exchange per producing service (`tickets.events`), routing key = event type,
one durable queue per consumer (quorum on RabbitMQ), with a dead-letter queue beside it: one per
consuming service (`tickets.events`) and one per plugin (`plugin.<name>.events`). In embedded mode
(memory://, which ends with the process) what fails for good is stored in the consumer's database
instead (`outbox.DeadLetters`), and `psa events replay` applies it there.
HTTP handlers never touch the broker: they write to the outbox, and the relay publishes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import kombu
import peewee
from amqp import exceptions as amqp_exceptions
from amqp.exceptions import AMQPError, MessageNacked
from kombu.exceptions import KombuError, OperationalError
from playhouse.pool import MaxConnectionsExceeded

from . import events, tenancy
from .config import Settings
from .db import DATABASE_DOWN
from .outbox import Inbox, Outbox, utcnow
from .plugins import SwitchedOff, declared_event_types

log = logging.getLogger(__name__)
Handler = Callable[[events.Event, dict], None]
MAX_DELIVERIES = 5
REPLAYED = "psa-replayed"  # the header of a dead letter put back on its queue by `replay_dead_letters`
BROKER_ERRORS = (OSError, KombuError, OperationalError, AMQPError, MessageNacked)


def connect(settings: Settings) -> kombu.Connection:
    """A broker connection; on RabbitMQ every publish waits for the broker's confirm."""
    options = {} if settings.embedded else {"confirm_publish": True, "confirm_timeout": 10}
    return kombu.Connection(settings.broker_url, transport_options=options, connect_timeout=5)


def exchange(settings: Settings, producer: str) -> kombu.Exchange:
    return kombu.Exchange(f"{settings.bus_prefix}{producer}.events", "topic", durable=True)


def dead_letter_exchange(settings: Settings) -> kombu.Exchange:
    return kombu.Exchange(f"{settings.bus_prefix}psa.dead-letter", "direct", durable=True)


def queues_for(settings: Settings, consumer: str, types: list[str]) -> list[kombu.Queue]:
    """The consumer's durable queue, bound to each type it handles, and its dead-letter queue."""
    name = f"{settings.bus_prefix}{consumer}.events"
    arguments = {}
    if not settings.embedded:
        arguments = {"x-dead-letter-exchange": dead_letter_exchange(settings).name, "x-dead-letter-routing-key": name}
        if settings.queue_type == "quorum":
            arguments |= {"x-queue-type": "quorum", "x-delivery-limit": MAX_DELIVERIES}
    bindings = [
        kombu.binding(exchange(settings, events.CATALOGUE[t].producer), routing_key=t) for t in sorted(set(types))
    ]
    main = kombu.Queue(name, bindings=bindings, durable=True, queue_arguments=arguments)
    dlq = kombu.Queue(f"{name}.dlq", dead_letter_exchange(settings), routing_key=name, durable=True)
    return [main, dlq]


class Relay:
    """Publishes a service's unpublished outbox rows, marking each sent only after its confirm."""

    def __init__(self, settings: Settings, outbox: Outbox, producer: str, batch: int = 200):
        self.settings, self.outbox, self.producer, self.batch = settings, outbox, producer, batch
        self.exchange = exchange(settings, producer)
        self._connection: kombu.Connection | None = None
        self.last_sent: dt.datetime | None = None  # the newest `published_at` this relay wrote

    def _publisher(self) -> kombu.Producer:
        if self._connection is None:
            self._connection = connect(self.settings)
            self._producer = self._connection.Producer(serializer="json")
        return self._producer

    def close(self) -> None:
        if self._connection is not None:
            self._connection.release()
            self._connection = None

    def _claim(self) -> list:
        model = self.outbox.model
        query = (
            model.select().where(model.published_at.is_null()).order_by(model.created_at, model.id).limit(self.batch)
        )
        if self.outbox.db.is_postgres:
            query = query.for_update("FOR UPDATE SKIP LOCKED")  # several relays never publish one row twice
        return list(query)

    def relay_once(self) -> int:
        """Publish one batch; returns how many rows were confirmed. Raises when the broker is down.

        On PostgreSQL the claimed rows stay locked until they are marked, so several relays never
        publish one row twice (SKIP LOCKED). On SQLite a transaction holds the whole database, so
        the rows are read, published, and only then marked, in a transaction of its own: until
        2026-11-27 every write of the service waited while the relay waited on the broker."""
        db = self.outbox.db
        with db.proxy.connection_context(), db.proxy.atomic() if db.is_postgres else contextlib.nullcontext():
            rows = self._claim()
            sent, failure = [], None
            for row in rows:
                try:
                    self._publish(self._publisher(), row)
                except BROKER_ERRORS as error:  # a nack, a timeout, a dropped connection
                    failure = error
                    self.close()
                    break
                sent.append(row.id)
            if sent:
                now = utcnow()
                with db.proxy.atomic():
                    self.outbox.model.update(published_at=now).where(self.outbox.model.id.in_(sent)).execute()
                self.last_sent = now
        if failure is not None:
            raise failure
        return len(sent)

    def _publish(self, producer: kombu.Producer, row) -> None:
        producer.publish(
            row.body,
            exchange=self.exchange,
            routing_key=row.type,
            declare=[self.exchange],
            delivery_mode=2,
            content_type="application/json",
            content_encoding="utf-8",
            message_id=str(row.id),
            headers={"psa-tenant": str(row.tenant_id)},
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1},
        )

    def drain(self) -> int:
        total = 0
        while count := self.relay_once():
            total += count
        return total


class Consumer:
    """Applies events to one service: inbox dedupe and the effect in one transaction, ack after commit.

    Args:
        service: the service whose database (and inbox) it writes.
        name: its queue's (`<prefix><name>.events`); the service's name unless it is another
            consumer on that database (a plugin's, `plugin.<name>`), whose inbox is then its own.
        binds: types its queue is bound for besides its handlers' (a plugin's declared ones).
        elsewhere: types another consumer of this process applies: acked and dropped if one comes
            (a binding of before, when the service's queue carried the plugins' types too).
        calls_out: its handlers call systems outside the database (a plugin's: an accounting API),
            so they run outside a transaction and the event is recorded applied after they return.
            On SQLite a transaction holds the one writer's turn: a plugin waiting seconds on its
            API inside one held every ticket save of the service for as long.
    """

    def __init__(
        self,
        settings: Settings,
        service: str,
        inbox: Inbox,
        handlers: dict[str, Handler],
        *,
        name: str | None = None,
        binds: frozenset[str] = frozenset(),
        elsewhere: frozenset[str] = frozenset(),
        calls_out: bool = False,
    ):
        self.settings, self.service, self.inbox, self.handlers = settings, service, inbox, handlers
        self.name = name or service
        self.queues = queues_for(settings, self.name, [*handlers, *binds])
        self.elsewhere, self.calls_out = elsewhere, calls_out
        self.attempts: Counter[str] = Counter()
        self.applied = 0
        self.duplicates = 0
        self.skipped = 0  # recorded applied, the plugin not called: its tenant had it switched off
        self.dead_lettered = 0
        self.caught_up: dt.datetime | None = None  # embedded: all queued before it was applied

    @functools.cached_property
    def not_wanted_here(self) -> frozenset[str]:
        return frozenset(declared_event_types()) | self.elsewhere

    def declare(self, connection: kombu.Connection) -> None:
        """Its queues and their bindings; and off its queue, the bindings of types another consumer
        here applies (a plugin's, bound to the service's queue before plugins had queues of their
        own), so they stop coming only to be dropped. Unbinding what is not bound changes nothing."""
        channel = connection.default_channel
        for queue in self.queues:
            queue.bind(channel).declare()
        main = self.queues[0].bind(channel)
        for name in sorted(self.elsewhere):
            main.unbind_from(exchange(self.settings, events.CATALOGUE[name].producer), routing_key=name)

    def on_message(self, body, message) -> None:
        try:
            event = events.Event.from_json(message.body)
        except (ValueError, TypeError) as error:
            self.on_unreadable(message, error)
            return
        if self._nobody_here_wants(event):
            message.ack()
            return
        try:
            self.apply(event, replaying=REPLAYED in (message.headers or {}))
        except SwitchedOff as off:  # a replayed dead letter: kept for the tenant's switch-on
            log.warning("%s: replayed %s %s back into the dead letters: %s", self.name, event.type, event.id, off)
            self._dead_letter(message, event.type, off)
            return
        except Exception as error:
            if isinstance(error, DATABASE_DOWN) and self._database_away():
                # Not the event at fault: counted as a failed delivery, a database restart of a
                # second dead-lettered every event that came meanwhile. Back on the queue
                # uncounted; the loop waits for the database. (An error the database answers
                # with while it is up, one statement's, counts: a poison message still goes.)
                self._retry(message)
                raise
            self.attempts[event.id] += 1
            tries = max(self.attempts[event.id], int(message.headers.get("x-delivery-count") or 0) + 1)
            log.exception("%s: %s %s failed (delivery %d)", self.name, event.type, event.id, tries)
            if tries < MAX_DELIVERIES:
                self._retry(message)
            elif self._dead_letter(message, event.type, error):
                self.attempts.pop(event.id, None)  # (not stored: its next failure tries again)
            return
        self.attempts.pop(event.id, None)  # a consumer runs for months: forget what came right
        message.ack()

    def on_unreadable(self, message, error: Exception) -> None:
        """Not an event (not JSON, or JSON but no event): into the dead letters at once. kombu
        refuses a content type other than JSON (`ContentDisallowed`) before `on_message`: until
        2026-11-28 that stopped the consumer, which reconnected and met it again until RabbitMQ's
        delivery limit dropped it, every other event waiting meanwhile."""
        log.error("%s: unreadable message %s (%s) dead-lettered", self.name, _message_id(message), error)
        self._dead_letter(message, None, error)

    def _nobody_here_wants(self, event: events.Event) -> bool:
        """Bound by another process for a plugin that does not run here (declared in its metadata,
        but blocked or not allow-listed here), or left bound from before the plugins had queues of
        their own: dropped. A type nobody declared still fails into the dead letters: in a rolling
        upgrade a newer worker on this queue may be the one that handles it."""
        if event.type not in self.handlers and event.type in self.not_wanted_here:
            # a warning: an operator who blocks a plugin for an outage must see that its events go,
            # and why (a misspelt name in the lists reads the same as a block)
            log.warning("%s: %s %s dropped: %s", self.name, event.type, event.id, self._why_nobody_wants())
            return True
        return False

    def _why_nobody_wants(self) -> str:
        if self.name.startswith("plugin.") and not self.handlers:
            plugin = self.name.removeprefix("plugin.")
            return (f"plugin {plugin} is not loaded in this process (blocked by PSA_DISABLED_PLUGINS, "
                    "left out of PSA_PLUGINS, or not installed here)")  # fmt: skip
        return f"no handler for it here (a plugin's type bound to {self.name}'s queue before plugins had their own)"

    def redeliver(self, body: str) -> bool:
        """Apply a stored dead letter's body as a delivery of it is applied (the type dropped if
        nobody here wants it, the inbox skipping an event already applied): False if it was not
        applied now. Raises what applying raised, and `SwitchedOff` while its tenant has the
        plugin switched off."""
        event = events.Event.from_json(body)
        return not self._nobody_here_wants(event) and self.apply(event, replaying=True)

    def _retry(self, message) -> None:
        """Back on this queue. memory:// puts a requeued message back through its exchange, on
        every queue bound for its type: one plugin's retry reached the service's own consumer and
        every other plugin again. In embedded mode it goes back on this queue alone, as on RabbitMQ."""
        if self.settings.embedded:
            move(message, kombu.Exchange(""), self.queues[0].name)
        else:
            message.requeue()

    def _dead_letter(self, message, event_type: str | None, error: BaseException) -> bool:
        """Into the dead letters; False if they could not take it (it is back on this queue). The
        MSP sees and replays what failed for good there: a plugin's failures no longer fail the
        service's own effect, so they no longer show in its data. RabbitMQ moves a rejected
        message into the dead-letter queue. memory:// drops it, and a dead-letter queue of its
        ended with the process while the watermark had moved past the event (lost for this
        consumer until 2026-11-27), so in embedded mode it is stored in the consumer's database
        (`outbox.DeadLetters`), committed before it is acked; if that fails it is not acked."""
        if not self.settings.embedded:
            message.reject(requeue=False)
        else:
            try:
                self._keep(message, event_type, error)
            except peewee.PeeweeException as failure:
                log.exception("%s: dead letter %s not stored; back on the queue", self.name, _message_id(message))
                self._retry(message)
                if isinstance(failure, DATABASE_DOWN):
                    raise  # the loop waits for the database
                return False
            message.ack()
        self.dead_lettered += 1
        return True

    def _keep(self, message, event_type: str | None, error: BaseException) -> None:
        body = message.body if isinstance(message.body, str) else bytes(message.body).decode("utf-8", "replace")
        headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-")}
        described = {"headers": headers, "content_type": message.content_type,
                     "content_encoding": message.content_encoding}  # fmt: skip
        routing_key = (message.delivery_info or {}).get("routing_key", "")
        self.inbox.dead_letters.keep(
            self.name, _message_id(message), event_type or routing_key, body, described, describe(error)
        )

    def apply(self, event: events.Event, *, replaying: bool = False) -> bool:
        """Apply once: False when the event id was already applied (a redelivery), or a plugin's
        handler skipped it (`SwitchedOff`: recorded applied all the same). The record and the effect
        commit together; for a consumer that `calls_out`, the record follows the call (a crash in
        between, or two copies of the event taken at once by two workers, calls twice: such handlers
        are idempotent). `replaying` a dead letter, `SwitchedOff` for a plugin off now is raised,
        nothing recorded: switched back on, the tenant has it replayed."""
        db = self.inbox.model._meta.database
        with db.connection_context(), tenancy.tenant_scope(event.tenant_id):
            if self.calls_out and self.inbox.seen(event):
                applied = False
            elif self.calls_out:
                called = self._call_out(event, replaying)
                with db.atomic():
                    self.inbox.record(event)
                if not called:
                    self.skipped += 1
                    return False
                applied = True
            else:
                with db.atomic():
                    applied = self.inbox.record(event)
                    if applied:
                        self.handlers[event.type](event, events.parse(event))
        if not applied:
            self.duplicates += 1
            return False
        self.applied += 1
        return True

    def _call_out(self, event: events.Event, replaying: bool) -> bool:
        try:
            self.handlers[event.type](event, events.parse(event))
        except SwitchedOff as off:
            if replaying and off.now:
                raise
            log.info("%s: %s %s skipped: %s", self.name, event.type, event.id, off)
            return False
        return True

    def check_database(self) -> None:
        """Raises (`DATABASE_DOWN`) while the inbox's database cannot be reached."""
        db = self.inbox.model._meta.database
        with db.connection_context():
            db.execute_sql("SELECT 1")

    def _database_away(self) -> bool:
        try:
            self.check_database()
        except DATABASE_DOWN:
            return True
        return False

    def consume(self, connection: kombu.Connection, until_idle: float | None = None, stop=None) -> None:
        """Consume until `stop` is set, or (with `until_idle`) until no message came for that long."""
        self.declare(connection)
        with connection.Consumer(
            self.queues[:1],
            callbacks=[self.on_message],
            on_decode_error=self.on_unreadable,
            accept=["json"],
            prefetch_count=10,
        ):
            while not (stop and stop.is_set()):
                idle = False
                try:
                    connection.drain_events(timeout=until_idle or 1.0)
                except TimeoutError:
                    idle = True
                self._note_caught_up(connection)
                if idle and until_idle:
                    return

    def _note_caught_up(self, connection: kombu.Connection) -> None:
        """On memory:// only (see `psa_shared.watermark`). The moment is taken before the queue is
        looked at, and between deliveries, when the message last taken is applied or back in the
        queue: a message the empty queue did not show was published after the moment."""
        if not self.settings.embedded:
            return
        moment = utcnow()
        declared = connection.default_channel.queue_declare(queue=self.queues[0].name, passive=True)
        if declared.message_count == 0:
            self.caught_up = moment


def move(message, to: kombu.Exchange, routing_key: str, headers: dict | None = None) -> None:
    """Publish the message again through `to` on its own channel (`headers` added), then ack it: on
    RabbitMQ, after the broker's confirm, so a crash in between leaves two copies (an inbox skips
    the second), never none. Broker headers (`x-delivery-count`, `x-death`) are left behind: it
    counts afresh."""
    kombu.Producer(message.channel).publish(
        message.body,
        exchange=to,
        routing_key=routing_key,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        headers={k: v for k, v in (message.headers or {}).items() if not k.startswith("x-")} | (headers or {}),
        message_id=message.properties.get("message_id"),
        delivery_mode=2,
    )
    message.ack()


def _message_id(message) -> str:
    """The event id the relay sent it with; a message without one (never the relay's) gets one."""
    return str(message.properties.get("message_id") or uuid.uuid4())


def describe(error: BaseException) -> str:
    """A failure as a dead letter records it: its traceback."""
    return "".join(traceback.format_exception(error))[-20_000:]


def dead_letters(consumer: Consumer) -> int:
    """How many messages the consumer's dead-letter queue holds (0 when its worker never declared
    it: looking makes no queue, so a mistyped `PSA_BUS_PREFIX` leaves nothing behind); in embedded
    mode, how many its database stores."""
    if consumer.settings.embedded:
        return consumer.inbox.dead_letters.count(consumer.name)
    with connect(consumer.settings) as connection:
        try:
            return consumer.queues[1].bind(connection.channel()).queue_declare(passive=True).message_count
        except amqp_exceptions.NotFound:
            return 0


def dead_letter_lines(consumer: Consumer, limit: int = 50) -> list[str]:
    """The consumer's dead letters, oldest first (at most `limit`), one line each: when it failed,
    the event's type, id and tenant, and why. Embedded mode keeps the last failure's traceback
    (its last line is shown); on RabbitMQ the reason is the worker's log, and the messages are
    looked at without being taken: unacknowledged, they go back in their place when the channel
    closes. Until 2026-11-28 the MSP could only count them."""
    if consumer.settings.embedded:
        return [
            _dead_letter_line(row.failed_at, row.type, row.message_id, row.body, _last_line(row.error))
            for row in consumer.inbox.dead_letters.oldest(consumer.name, limit)
        ]
    lines = []
    with connect(consumer.settings) as connection:
        channel = connection.channel()
        try:
            dlq = consumer.queues[1].bind(channel)
            dlq.queue_declare(passive=True)
        except amqp_exceptions.NotFound:
            return []
        while len(lines) < limit and (message := dlq.get(no_ack=False)) is not None:
            death = ((message.headers or {}).get("x-death") or [{}])[0]
            failed_at = death.get("time")
            body = message.body if isinstance(message.body, str) else bytes(message.body).decode("utf-8", "replace")
            event_type = death.get("routing-keys", [message.delivery_info.get("routing_key")])[0]
            why = "rejected after its last delivery: the worker's log has the error"
            lines.append(_dead_letter_line(failed_at, event_type, _message_id(message), body, why))
        channel.close()  # nothing acknowledged: every message looked at stays, in its place
    return lines


def _dead_letter_line(failed_at, event_type: str, message_id: str, body: str, why: str) -> str:
    try:
        tenant = json.loads(body).get("tenant_id", "?")
    except (ValueError, AttributeError):  # not JSON, or not an object: what was dead-lettered unread
        tenant = "?"
    when = f"{failed_at:%Y-%m-%d %H:%M:%S} UTC" if isinstance(failed_at, dt.datetime) else "time unknown"
    return f"{when} {event_type} {message_id} tenant {tenant}: {why}"


def _last_line(error: str) -> str:
    return next((line.strip() for line in reversed(error.splitlines()) if line.strip()), error)


def replay_dead_letters(consumer: Consumer, limit: int | None = None) -> int:
    """Put what the consumer's dead-letter queue holds back on its queue, oldest first, each one
    acked off the dead-letter queue only after the broker confirmed it back (RabbitMQ): a crash in
    between leaves it in both, and the consumer's inbox skips the second. Its delivery count starts
    afresh, so an event that fails again gets its five tries again. Returns how many were moved;
    the worker puts one whose tenant has the plugin switched off back into the dead letters. In
    embedded mode they are applied here instead (`replay_stored`): returns how many are done."""
    if consumer.settings.embedded:
        done = replay_stored(consumer, limit)
        return done.applied + done.already
    moved = 0
    with connect(consumer.settings) as connection:
        channel = connection.default_channel
        dlq = consumer.queues[1].bind(channel)
        dlq.declare()
        while limit is None or moved < limit:
            message = dlq.get(no_ack=False)
            if message is None:
                break
            move(message, kombu.Exchange(""), consumer.queues[0].name, {REPLAYED: True})
            moved += 1
    return moved


@dataclass
class Replayed:
    """What `replay_stored` did: how many it applied, how many were not applied now (the inbox
    had them, nobody here wants their type, or their tenant had the plugin switched off when they
    occurred), each one skipped (its tenant has the plugin off now) and each one that failed again."""

    applied: int = 0
    already: int = 0
    skipped: list[str] = field(default_factory=list)  # "<type> <message id>: <why>"
    failed: list[str] = field(default_factory=list)  # "<type> <message id>: <the error's last line>"


def replay_stored(consumer: Consumer, limit: int | None = None) -> Replayed:
    """Embedded mode: apply the consumer's stored dead letters here, oldest first, each through the
    consumer's own handling (`Consumer.redeliver`: its inbox skips one it had applied; a plugin's
    `psa_on_event` is called outside a transaction). One applied is deleted; one that fails again
    stays stored, its error updated; so does one whose tenant has the plugin switched off now,
    untouched, for a replay once it is on again."""
    store, done = consumer.inbox.dead_letters, Replayed()
    for row in store.oldest(consumer.name, limit):
        try:
            applied = consumer.redeliver(row.body)
        except SwitchedOff as off:
            done.skipped.append(f"{row.type} {row.message_id}: {off}")
            continue
        except Exception as error:
            log.exception("%s: dead letter %s %s failed again; still stored", consumer.name, row.type, row.message_id)
            store.failed_again(row, describe(error))
            last_line = traceback.format_exception_only(error)[-1].strip()
            done.failed.append(f"{row.type} {row.message_id}: {last_line}")
            continue
        store.remove(row)
        if applied:
            done.applied += 1
        else:
            done.already += 1
    return done


class BackgroundLoop(threading.Thread):
    """A daemon thread running a relay or consumer forever, backing off while the broker is down."""

    def __init__(
        self,
        name: str,
        step: Callable[[threading.Event], None],
        idle: threading.Event | None = None,
        broker: str = "the broker",
    ):
        super().__init__(name=name, daemon=True)
        self.step, self.idle, self.stop_event = step, idle, threading.Event()
        self.broker = broker  # as its retries name it (`broker_named`)

    def run(self) -> None:
        """Step until stopped. Whatever a step raises is waited out and the step tried again: until
        2026-11-28 any error but an outage ended the thread, and with it the events' way out (a
        `psa serve` whose request threads held every pooled connection lost its relay for good,
        the outbox filling while every request still answered 2xx)."""
        backoff = 0.5
        while not self.stop_event.is_set():
            try:
                self.step(self.stop_event)
                backoff = 0.5
            except (*BROKER_ERRORS, *DATABASE_DOWN) as error:
                log.warning("%s: %s; retrying in %.1fs", self.name, self._trouble(error), backoff)
            except MaxConnectionsExceeded:
                log.warning("%s: every database connection is in use; retrying in %.1fs", self.name, backoff)
            except Exception:
                log.exception("%s: step failed; retrying in %.1fs", self.name, backoff)
            else:
                continue
            self.stop_event.wait(backoff)
            backoff = min(backoff * 2, 10)

    def _trouble(self, error: Exception) -> str:
        """Which server is away, and the error's first line: until 2026-11-28 its type alone
        (`OperationalError`), which kombu and peewee both raise."""
        what = f"{type(error).__name__}: {error}".splitlines()[0]
        where = "the database" if isinstance(error, DATABASE_DOWN) else self.broker
        return f"{where} not reachable ({what})"

    def stop(self) -> None:
        self.stop_event.set()
        if self.idle is not None:
            self.idle.set()


def relay_loop(relay: Relay, poll_seconds: float = 0.5) -> BackgroundLoop:
    """Relay forever: at once after an emit in this process, else every `poll_seconds`."""

    def step(stop: threading.Event) -> None:
        woken = relay.outbox.wake.wait(poll_seconds)
        relay.outbox.wake.clear()
        if woken:
            time.sleep(0.02)  # emit happens just before the commit; let it land
        relay.drain()

    return BackgroundLoop(f"relay-{relay.producer}", step, relay.outbox.wake, broker_named(relay.settings))


def consumer_loop(consumer: Consumer) -> BackgroundLoop:
    def step(stop: threading.Event) -> None:
        # no message is taken while the database is away: on RabbitMQ each one put back counts
        # towards its delivery limit, so one outage after another would still dead-letter it
        consumer.check_database()
        with connect(consumer.settings) as connection:
            consumer.consume(connection, stop=stop)

    return BackgroundLoop(f"consumer-{consumer.name}", step, broker=broker_named(consumer.settings))


def broker_named(settings: Settings) -> str:
    """The broker as a log line names it: RabbitMQ and its address, the password masked. Embedded
    mode makes no connection for it: kombu warns, on every start, that memory:// has no host."""
    if settings.embedded:
        return "the in-process bus (memory://)"
    return f"RabbitMQ at {kombu.Connection(settings.broker_url).as_uri()}"
