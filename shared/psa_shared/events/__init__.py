"""Events: the envelope every service publishes, and the catalogue of their payload schemas.

An event type is registered once with `register(type, version, schema)`; producers validate
payloads strictly (`build`), consumers read tolerantly (`parse`), and older versions are
upcast on read through functions registered with `upcaster(type, from_version)`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import json
import uuid
from dataclasses import dataclass, field

import marshmallow as ma
import orjson

from ..ids import new_id


@dataclass(frozen=True)
class EventType:
    name: str
    producer: str
    version: int
    schema: type[ma.Schema]
    doc: str


@dataclass(frozen=True)
class Event:
    """The envelope: `{id, type, version, occurred_at, tenant_id, actor, correlation_id, payload}`."""

    type: str
    tenant_id: str
    payload: dict
    actor: str | None = None
    correlation_id: str | None = None
    version: int = 1
    id: str = field(default_factory=lambda: str(new_id()))
    occurred_at: str = field(default_factory=lambda: utc_iso(dt.datetime.now(dt.UTC)))

    def to_json(self) -> str:
        return orjson.dumps(self.__dict__, option=orjson.OPT_SORT_KEYS).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> Event:
        data = json.loads(text)
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


CATALOGUE: dict[str, EventType] = {}
_UPCASTERS: dict[tuple[str, int], callable] = {}


class UnknownEvent(LookupError):
    pass


def utc_iso(moment: dt.datetime) -> str:
    """ISO 8601 with `Z`; naive datetimes are taken as UTC (that is how we store them)."""
    if moment.tzinfo is None:
        return moment.isoformat() + "Z"  # a list page prints thousands of these
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def register(name: str, producer: str, version: int, schema: type[ma.Schema], doc: str) -> EventType:
    """Add an event type to the catalogue.

    Args:
        name: dotted type, also the routing key (`ticket.created`).
        producer: the service that publishes it; its exchange is `<producer>.events`.
        version: the current payload version; older ones are upcast on read.
        schema: marshmallow schema of the payload.
        doc: when it is emitted and what it means.
    """
    CATALOGUE[name] = EventType(name, producer, version, schema, doc)
    return CATALOGUE[name]


def upcaster(name: str, from_version: int):
    """Decorator: a function turning a `from_version` payload into the next version's."""

    def decorate(fn):
        _UPCASTERS[(name, from_version)] = fn
        return fn

    return decorate


class DecimalText(ma.fields.Decimal):
    """An exact amount (money, hours) in a payload: a `Decimal`, or the string of one, sent as that
    string. A float is refused: 0.1 + 0.2 would go out as 0.30000000000000004 (until 2026-11-28
    `invoice.posted` took one, and a `Decimal` total could not be written at all)."""

    default_error_messages = {"float": 'give a Decimal or a decimal string ("120.50"), not a float'}

    def __init__(self, **kwargs):
        super().__init__(as_string=True, allow_nan=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float):
            raise self.make_error("float")
        return super()._deserialize(value, attr, data, **kwargs)


def _jsonable(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (uuid.UUID, dt.date)):
        return utc_iso(value) if isinstance(value, dt.datetime) else str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


@functools.cache
def _validator(schema: type[ma.Schema]) -> ma.Schema:
    return schema()  # building one costs more than validating with it; instances are reusable


def build(name: str, tenant_id, payload: dict, actor=None, correlation_id=None) -> Event:
    """A validated event, ready for the outbox. Raises on an unknown type or a bad payload."""
    kind = CATALOGUE.get(name)
    if kind is None:
        raise UnknownEvent(name)
    payload = _jsonable(payload)
    errors = _validator(kind.schema).validate(payload)
    if errors:
        raise ma.ValidationError(errors)
    return Event(
        type=name,
        version=kind.version,
        tenant_id=str(tenant_id),
        payload=payload,
        actor=str(actor) if actor else None,
        correlation_id=correlation_id,
    )


def parse(event: Event) -> dict:
    """The payload as the current version's schema loads it, unknown fields dropped."""
    kind = CATALOGUE.get(event.type)
    if kind is None:
        raise UnknownEvent(event.type)
    payload, version = event.payload, event.version
    while version < kind.version:
        payload = _UPCASTERS[(event.type, version)](payload)
        version += 1
    return _reader(kind.schema).load(payload)


@functools.cache
def _reader(schema: type[ma.Schema]) -> ma.Schema:
    """The schema as consumers load with: unknown fields dropped, inside nested objects too. A
    load's own `unknown` does not reach them, so a newer producer's extra field in a list of
    objects (`vault.rotation_required`'s clients) failed every delivery, then was dead-lettered."""
    reader = schema(unknown=ma.EXCLUDE)
    _drop_unknown_nested(reader.fields.values())
    return reader


def _drop_unknown_nested(declared) -> None:
    for declared_field in declared:
        inner = declared_field
        while isinstance(inner, ma.fields.List):
            inner = inner.inner
        if isinstance(inner, ma.fields.Nested):
            inner.unknown = ma.EXCLUDE  # this instance's copy: producers still validate strictly
            _drop_unknown_nested(inner.schema.fields.values())


# The catalogue, one module per producing domain (imported for their registrations).
from . import billing, directory, tickets, vault  # noqa: E402,F401
