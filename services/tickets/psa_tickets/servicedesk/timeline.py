"""The trail of a ticket: every change, time entry and note in time order, with who and when.

The client audience never sees internal notes, the internal notes of time entries, or changes
marked internal-only (estimates)."""

from __future__ import annotations

from ..directory.models import Member
from .models import Note, Ticket, TicketChange, TimeEntry

SYSTEM = {"id": None, "name": "PSA Core (automatic)"}
AUDIENCES = ("internal", "client")


def _actors(ids: set) -> dict:
    ids.discard(None)
    if not ids:
        return {}
    members = Member.select(Member.id, Member.name).where(Member.id.in_(list(ids)))
    return {m.id: {"id": m.id, "name": m.name} for m in members}


def timeline(ticket: Ticket, audience: str = "internal") -> list[dict]:
    """Items `{at, kind, actor, text, ...}` oldest first."""
    client = audience == "client"
    changes = TicketChange.select().where(TicketChange.ticket == ticket.id)
    notes = Note.select().where(Note.ticket == ticket.id)
    entries = TimeEntry.select().where(TimeEntry.ticket == ticket.id)
    if client:
        changes = changes.where(TicketChange.client_visible == True)  # noqa: E712
        notes = notes.where(Note.internal == False)  # noqa: E712
    changes, notes, entries = list(changes), list(notes), list(entries)
    actors = _actors({c.actor_id for c in changes} | {n.author_id for n in notes} | {e.member_id for e in entries})

    def who(member_id):
        return actors.get(member_id, SYSTEM) if member_id else SYSTEM

    items = [
        {"at": c.at, "kind": c.kind, "actor": who(c.actor_id), "text": c.text, "old_value": c.old_value,
         "new_value": c.new_value, "internal": not c.client_visible, "_order": (c.at, 1, c.id)}
        for c in changes
    ]  # fmt: skip
    items += [
        {"at": n.created_at, "kind": "note", "actor": who(n.author_id), "text": n.text, "internal": n.internal,
         "note_id": n.id, "_order": (n.created_at, 2, n.id)}
        for n in notes
    ]  # fmt: skip
    for e in entries:
        item = {"at": e.started_at, "kind": "time_entry", "actor": who(e.member_id), "text": e.notes or "",
                "internal": False, "time_entry_id": e.id, "minutes": e.minutes, "billing": e.billing,
                "outcome": e.outcome, "work_type": e.work_type, "_order": (e.started_at, 0, e.id)}  # fmt: skip
        if not client:
            item["internal_notes"] = e.internal_notes
        items.append(item)
    items.sort(key=lambda i: i.pop("_order"))  # at one instant: the work, then what it changed, then notes
    return items
