"""The trail of a ticket: every change, time entry and note in time order, with who and when.

The client audience never sees internal notes, the internal notes of time entries, who logged
an entry for another member, or changes marked internal-only (estimates).

A long trail is read often (a client's boss calls; the dispatcher opens it): rows are read as
the driver returns them and each column is converted once, to a Python value for the printable
reports or straight to its JSON text for the API, without a model instance per row (a
500-entry trail cost 21 ms in process through the ORM and marshmallow)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import peewee

from psa_shared.statements import Shapes, Slot, Statement, dumped_value, python_value

from ..directory.models import Member
from .models import Note, TicketChange, TimeEntry

SYSTEM_NAME = "PSA Core (automatic)"
AUDIENCES = ("internal", "client")

_CHANGE = (TicketChange.at, TicketChange.id, TicketChange.actor, TicketChange.kind, TicketChange.text,
           TicketChange.old_value, TicketChange.new_value, TicketChange.client_visible)  # fmt: skip
_NOTE = (Note.created_at, Note.id, Note.author, Note.text, Note.internal)
_ENTRY = (TimeEntry.started_at, TimeEntry.id, TimeEntry.member, TimeEntry.notes, TimeEntry.minutes,
          TimeEntry.billing, TimeEntry.outcome, TimeEntry.work_type, TimeEntry.internal_notes,
          TimeEntry.recorded_by_id)  # fmt: skip


def _rows(model, columns, *, shown=None) -> Statement:
    def build():
        query = model.select(*columns).where(model.ticket == Slot("ticket"))
        return query if shown is None else query.where(shown)

    return Statement(build)


# What the client audience is shown: each model, the time it is placed at, and its filter (None:
# every row). The printable reports count their rows by it too (`reports._count_items`).
CLIENT_SHOWN = (
    (TicketChange, TicketChange.at, TicketChange.client_visible == True),  # noqa: E712
    (Note, Note.created_at, Note.internal == False),  # noqa: E712
    (TimeEntry, TimeEntry.started_at, None),
)
_QUERIES = {
    "internal": (_rows(TicketChange, _CHANGE), _rows(Note, _NOTE), _rows(TimeEntry, _ENTRY)),
    "client": tuple(
        _rows(model, columns, shown=shown)
        for (model, _, shown), columns in zip(CLIENT_SHOWN, (_CHANGE, _NOTE, _ENTRY), strict=True)
    ),
}


@functools.cache
def _converters(columns: tuple[peewee.Field, ...], as_json: bool) -> tuple[Callable | None, ...]:
    convert = dumped_value if as_json else python_value
    # members stay raw for `_actors`: the row's own (taken apart by `_read`) and an entry's writer
    return tuple(
        None if n == 2 else _raw if column is TimeEntry.recorded_by_id else convert(column)
        for n, column in enumerate(columns)
    )


def _raw(value):
    return value


def _read(rows: list[tuple], columns, as_json: bool) -> list[tuple]:
    """Each row as (its order: raw time and id; the raw member id; every other column converted,
    an entry's writer kept raw), None staying None. Columns: time, id, member, then the rest."""
    converters = _converters(columns, as_json)

    def read(row: tuple) -> tuple:
        values = (None if v is None else convert(v) for v, convert in zip(row, converters, strict=True) if convert)
        return ((row[0], row[1]), row[2], *values)

    return [read(row) for row in rows]


def timeline(ticket, audience: str = "internal", *, as_json: bool = False) -> list[dict]:
    """Items `{at, kind, actor, text, ...}` oldest first: Python values (UUIDs, naive UTC
    datetimes), or with `as_json` the text the API's `TimelineItem` schema dumps them as."""
    client = audience == "client"
    changes, notes, entries = (query.rows(ticket=ticket.id) for query in _QUERIES[audience])
    writers = {row[-1] for row in entries}  # who logged each entry (raw, like the actors)
    actors = _actors({row[2] for row in (*changes, *notes, *entries)} | writers, as_json)

    def who(raw_id) -> dict:
        return actors.get(raw_id) or {"id": None, "name": SYSTEM_NAME}

    items = []
    for (at, raw_id), actor, when, _, kind, text, old, new, visible in _read(changes, _CHANGE, as_json):
        items.append((
            (at, 1, raw_id),
            {"at": when, "kind": kind, "actor": who(actor), "text": text, "old_value": old, "new_value": new,
             "internal": not visible},
        ))  # fmt: skip
    for (at, raw_id), author, when, note_id, text, internal in _read(notes, _NOTE, as_json):
        items.append((
            (at, 2, raw_id),
            {"at": when, "kind": "note", "actor": who(author), "text": text, "internal": bool(internal),
             "note_id": note_id},
        ))  # fmt: skip
    for order, member, when, entry_id, text, minutes, billing, outcome, work_type, internal_notes, writer in _read(
        entries, _ENTRY, as_json
    ):
        item = {"at": when, "kind": "time_entry", "actor": who(member), "text": text or "", "internal": False,
                "time_entry_id": entry_id, "minutes": minutes, "billing": billing, "outcome": outcome,
                "work_type": work_type}  # fmt: skip
        if not client:  # the actor is who did the work; the dispatcher also sees who wrote it for them
            item["internal_notes"] = internal_notes
            item["recorded_by"] = who(writer) if writer not in (None, member) else None
        items.append(((order[0], 0, order[1]), item))
    # at one instant: the work, then what it changed, then notes (raw times sort as the times do)
    items.sort(key=lambda pair: pair[0])
    return [item for _, item in items]


_MEMBERS = Shapes(
    lambda count: Member.select(Member.id, Member.name).where(Member.id.in_([Slot(f"m{n}") for n in range(count)]))
)


def _actors(raw_ids: set, as_json: bool) -> dict:
    """Raw member id (as the rows hold it) -> `{id, name}`, for the few members of one trail."""
    raw_ids.discard(None)
    if not raw_ids:
        return {}
    rows = _MEMBERS[len(raw_ids)].rows(**{f"m{n}": raw for n, raw in enumerate(raw_ids)})
    convert = (dumped_value if as_json else python_value)(Member.id)
    return {raw: {"id": convert(raw), "name": name} for raw, name in rows}
