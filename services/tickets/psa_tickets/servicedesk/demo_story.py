"""The mailbox story in the demo tenant: eight calls, a handout, waiting on the client, auto-closed."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from psa_shared.auth import Principal

from ..directory.models import Client, Contact, Member, Tenant
from ..directory.tokens import member_view
from . import boards, clock, notes, tickets, time_entries

VOICEMAIL = {"minutes": 0, "billing": "billable", "notes": "Called client. Left voicemail.", "outcome": "no_response"}
# The board's note, so every ticket auto-closed on that board gets it: nothing about mailboxes.
CLOSING_NOTE = (
    # no count: the board's policy may change after the demo (it said "three times" whatever it was)
    "We have tried to reach you without an answer, so we are closing this request for now. "
    "Open a new request whenever you are ready and we will pick it up again."
)


def seed_mailbox_story(admin: Principal, client_name: str, tech_email: str) -> None:
    """Replay the story over the last ten business days, through the service functions: eight
    calls, one of which reaches her, and the third unanswered one after she said she was too busy
    closes the ticket by the board's policy."""
    client = Client.get(Client.name == client_name)
    contact = Contact.get(Contact.client == client.id)
    tech = Principal(member_view(Member.get(Member.email == tech_email)))
    board = boards.default_board()
    boards.update_board(board.id, autoclose_attempts=3, autoclose_note=CLOSING_NOTE)
    mornings = _last_business_mornings(10, ZoneInfo(Tenant.get_by_id(admin.tenant_id).time_zone))

    def at(day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
        return mornings[day] + dt.timedelta(hours=hour, minutes=minute)

    with clock.travel(at(0)):
        ticket = tickets.create_ticket(
            admin, client_id=client.id, contact_id=contact.id, summary="Clean out my mailbox (almost full)",
            description="Dana's mailbox is at 49 of 50 GB; she wants old mail archived.",
            assignee_id=tech.member_id, estimate_minutes=60,
        )  # fmt: skip

    def call(day, hour, **fields):
        with clock.travel(at(day, hour)):
            time_entries.log_time(tech, ticket=tickets.get_ticket(tech, ticket.id), started_at=at(day, hour), **fields)

    for day, hour in ((0, 1), (1, 2), (2, 0)):
        call(day, hour, **VOICEMAIL, internal_notes="Mailbox 49.5 of 50 GB.")
    call(3, 2, minutes=5, billing="billable", outcome="reached", notes="Reached client; she asked for a handout.")
    with clock.travel(at(3, 2, 20)):
        notes.add_note(tech, ticket.id, "Emailed the handout: archiving old mail in Outlook.", internal=False)
        tickets.update_ticket(tech, ticket.id, priority="P4")
    call(5, 4, **VOICEMAIL)
    with clock.travel(at(5, 4, 10)):
        notes.add_note(tech, ticket.id, "Dana replied she is too busy this month.", internal=True)
        tickets.update_ticket(tech, ticket.id, status="Waiting on Client")
    for day, hour in ((6, 1), (7, 2), (9, 1)):  # the third unanswered attempt closes it by policy
        call(day, hour, **VOICEMAIL)


def _last_business_mornings(count: int, zone: ZoneInfo) -> list[dt.datetime]:
    """09:00 in the tenant's zone (naive UTC) on each of the last `count` weekdays before today,
    oldest first: calls on a Saturday would tell a new user the demo MSP works weekends."""
    mornings, day = [], clock.now().replace(tzinfo=dt.UTC).astimezone(zone).date()
    while len(mornings) < count:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5:
            nine = dt.datetime.combine(day, dt.time(9), tzinfo=zone)
            mornings.append(nine.astimezone(dt.UTC).replace(tzinfo=None))
    return mornings[::-1]
