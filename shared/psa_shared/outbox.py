"""The transactional outbox: events are rows written with the change, relayed after commit; the
inbox of what consumers applied, and (embedded mode) what they failed on for good."""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
import uuid

import peewee

from . import events, tenancy
from .db import ServiceDatabase
from .statements import Insert


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class NotInTransaction(RuntimeError):
    """An event emitted outside `db.atomic()` could outlive a rolled-back change."""


class Outbox:
    """One service's outbox table and the function that writes to it."""

    def __init__(self, db: ServiceDatabase):
        self.db = db
        self.wake = threading.Event()  # set on emit, so an in-process relay publishes at once

        class OutboxEvent(peewee.Model):
            id = peewee.UUIDField(primary_key=True)
            tenant_id = peewee.UUIDField()
            type = peewee.CharField(max_length=80)
            body = peewee.TextField()
            created_at = peewee.DateTimeField(default=utcnow)
            published_at = peewee.DateTimeField(null=True)

            class Meta:
                database = db.proxy
                table_name = "outbox"
                indexes = ((("published_at", "created_at"), False),)

        self.model = OutboxEvent
        self._insert = Insert(OutboxEvent)

    def prepare(self, name: str, payload: dict, tenant_id=None) -> events.Event:
        """Validate an event ahead of the transaction that writes it, so the transaction (on SQLite,
        the one writer's turn) holds only the INSERT."""
        return events.build(
            name,
            tenant_id or tenancy.current_tenant(),
            payload,
            actor=tenancy.actor.get(),
            correlation_id=tenancy.correlation_id.get(),
        )

    def write(self, event: events.Event) -> events.Event:
        """Store a prepared event in the caller's transaction; the relay publishes it later."""
        if not self.db.proxy.in_transaction():
            raise NotInTransaction(f"an event ({event.type!r}) must be written inside db.atomic()")
        row = {"id": event.id, "tenant_id": event.tenant_id, "type": event.type, "body": event.to_json()}
        self._insert.write_row(row)  # created_at and published_at: the model's defaults
        self.wake.set()
        return event

    def emit(self, name: str, payload: dict, tenant_id=None) -> events.Event:
        """Validate and store an event in the caller's transaction."""
        return self.write(self.prepare(name, payload, tenant_id))

    def pending_count(self) -> int:
        return self.model.select().where(self.model.published_at.is_null()).count()


class Inbox:
    """Event ids a consumer has applied, recorded in the same transaction as the effect.

    A service's own consumer records the event id itself. Another consumer on the service's
    database (each plugin's: `for_consumer(name)`) records an id derived from it and the
    consumer's name (`uuid5(event id, name)`), in the same table: each consumer then applies an
    event once, and none takes another's record for its own. A derived id rather than a column
    naming the consumer: the primary key stays the one column it is, so the databases made before
    plugins had queues of their own need no change (their rows are the service's own, keyed as
    before), and the record is still one INSERT that fails on a redelivery.

    `dead_letters`: what the consumers on this database failed on for good, in embedded mode."""

    def __init__(self, db: ServiceDatabase):
        class InboxEvent(peewee.Model):
            id = peewee.UUIDField(primary_key=True)
            type = peewee.CharField(max_length=80)
            received_at = peewee.DateTimeField(default=utcnow)

            class Meta:
                database = db.proxy
                table_name = "inbox"

        self.model = InboxEvent
        self.consumer: str | None = None  # None: the service's own consumer
        self.dead_letters = DeadLetters(db)

    def for_consumer(self, name: str) -> Inbox:
        """The same table, for consumer `name`: its records are its own."""
        other = copy.copy(self)
        other.consumer = name
        return other

    def key(self, event: events.Event) -> uuid.UUID:
        event_id = uuid.UUID(str(event.id))
        return event_id if self.consumer is None else uuid.uuid5(event_id, self.consumer)

    def seen(self, event: events.Event) -> bool:
        """Whether this consumer recorded the event applied."""
        return self.model.select().where(self.model.id == self.key(event)).exists()

    def record(self, event: events.Event) -> bool:
        """True the first time this consumer sees an event id; False for a redelivery (call inside atomic)."""
        try:
            with self.model._meta.database.atomic():
                self.model.create(id=self.key(event), type=event.type)
        except peewee.IntegrityError:
            return False
        return True


class DeadLetters:
    """Messages the consumers on one database failed on for good, in embedded mode: memory://'s
    dead-letter queue ends with the process, and the watermark (`psa_shared.watermark`) moves past
    them, so each is kept here, committed before it is acked off its queue, until `psa events
    replay <consumer>` applies it. One row per consumer and message: one dead-lettered again (its
    event relayed again after a kill) updates it. On RabbitMQ its dead-letter queues keep them."""

    def __init__(self, db: ServiceDatabase):
        class DeadLetter(peewee.Model):
            id = peewee.AutoField()  # the order they failed in
            consumer = peewee.CharField(max_length=200)  # `tickets`, `plugin.<name>`, ...
            message_id = peewee.CharField(max_length=200)  # the event id, as the relay sent it
            type = peewee.CharField(max_length=200)  # the event's (the routing key if unreadable)
            body = peewee.TextField()  # as received
            headers = peewee.TextField()  # JSON: its own headers (`psa-tenant`), content type and encoding
            failed_at = peewee.DateTimeField(default=utcnow)  # the last time
            error = peewee.TextField()  # the last failure's traceback

            class Meta:
                database = db.proxy
                table_name = "dead_letter"
                indexes = ((("consumer", "message_id"), True),)

        self.model = DeadLetter

    def keep(self, consumer: str, message_id: str, type_: str, body: str, headers: dict, error: str) -> None:
        """Store (or, for one kept already, update) a dead letter, committed on return."""
        model = self.model
        row = {"consumer": consumer, "message_id": message_id, "type": type_, "body": body,
               "headers": json.dumps(headers, default=str), "failed_at": utcnow(), "error": error}  # fmt: skip
        changes = {model.body: body, model.headers: row["headers"], model.failed_at: row["failed_at"],
                   model.error: error}  # fmt: skip
        with model._meta.database.connection_context(), model._meta.database.atomic():
            model.insert(row).on_conflict(conflict_target=[model.consumer, model.message_id], update=changes).execute()

    def count(self, consumer: str) -> int:
        with self.model._meta.database.connection_context():
            return self.model.select().where(self.model.consumer == consumer).count()

    def oldest(self, consumer: str, limit: int | None = None) -> list:
        """The consumer's dead letters in the order they first failed (at most `limit`)."""
        model = self.model
        with model._meta.database.connection_context():
            return list(model.select().where(model.consumer == consumer).order_by(model.id).limit(limit))

    def failed_again(self, row, error: str) -> None:
        with self.model._meta.database.connection_context(), self.model._meta.database.atomic():
            self.model.update(error=error, failed_at=utcnow()).where(self.model.id == row.id).execute()

    def remove(self, row) -> None:
        """Applied: forgotten."""
        with self.model._meta.database.connection_context(), self.model._meta.database.atomic():
            self.model.delete().where(self.model.id == row.id).execute()
