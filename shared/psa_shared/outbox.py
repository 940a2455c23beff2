"""The transactional outbox: events are rows written with the change, relayed after commit."""

from __future__ import annotations

import datetime as dt
import threading

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
    """Event ids a consumer has applied, recorded in the same transaction as the effect."""

    def __init__(self, db: ServiceDatabase):
        class InboxEvent(peewee.Model):
            id = peewee.UUIDField(primary_key=True)
            type = peewee.CharField(max_length=80)
            received_at = peewee.DateTimeField(default=utcnow)

            class Meta:
                database = db.proxy
                table_name = "inbox"

        self.model = InboxEvent

    def record(self, event: events.Event) -> bool:
        """True the first time an event id is seen; False for a redelivery (call inside atomic)."""
        try:
            with self.model._meta.database.atomic():
                self.model.create(id=event.id, type=event.type)
        except peewee.IntegrityError:
            return False
        return True
