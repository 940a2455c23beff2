"""Notes on a ticket: internal to the MSP, or visible to the client (a member's first is the response)."""

from __future__ import annotations

from psa_shared.auth import Principal
from psa_shared.errors import field_error

from ..database import db, emit
from . import clock
from .events import note_payload
from .models import Note, Ticket
from .tickets import get_ticket, mark_responded


def add_note(principal: Principal, ticket_id, text: str, internal: bool = True) -> Note:
    if not text.strip():
        # says nothing, to the client least of all: it must not stand as the SLA response
        raise field_error("text", "must not be blank")
    with db.proxy.atomic():
        ticket = get_ticket(principal, ticket_id, for_update=True)
        now = clock.now()
        note = Note.create(ticket=ticket.id, author=principal.member_id, text=text, internal=internal, created_at=now)
        if not internal and principal.member_id is not None:  # an integration's note is no response
            mark_responded(ticket, now)
        ticket.updated_at = now
        ticket.save(only=[Ticket.responded_at, Ticket.updated_at])
        # and no `ticket.updated`: none of the fields it carries changed (its `updated_at` moved,
        # which the note's event tells; the response is no field of the ticket's events)
        emit("note.created", note_payload(note, ticket))
    return note


def ticket_notes(ticket: Ticket):
    return Note.select().where(Note.ticket == ticket.id)
