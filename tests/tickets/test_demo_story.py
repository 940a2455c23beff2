"""The demo tenant of `make run` tells the mailbox story."""

import datetime as dt
from zoneinfo import ZoneInfo

from psa_shared.tenancy import tenant_scope
from psa_tickets import demo
from psa_tickets.directory.models import Member, Tenant
from psa_tickets.servicedesk.models import Ticket
from psa_tickets.servicedesk.timeline import timeline

CHICAGO = ZoneInfo("America/Chicago")  # the demo tenant's zone


def test_demo_tenant_holds_the_auto_closed_mailbox_ticket(psa):
    demo.seed(psa.settings)
    with psa.service("tickets").db.proxy.connection_context():
        tenant = Tenant.get(Tenant.name == demo.DEMO_TENANT)
        with tenant_scope(tenant.id):
            ticket = Ticket.get(Ticket.summary.startswith("Clean out my mailbox"))
            assert ticket.status.name == "Closed" and ticket.priority == "P4" and ticket.spent_minutes == 5
            trail = timeline(ticket)
            board_note = ticket.board.autoclose_note
            dispatcher = Member.get(Member.email == "dispatch@demo-msp.example")
    calls = [i for i in trail if i["kind"] == "time_entry"]
    assert len(calls) == 8 and sum(i["outcome"] == "no_response" for i in calls) == 7  # "calls her eight times"
    days = {i["at"].replace(tzinfo=dt.UTC).astimezone(CHICAGO).date() for i in trail}  # naive UTC
    assert all(day.weekday() < 5 for day in days) and len(days) <= 10  # over ten (business) days
    assert ticket.number == 1  # told first, as the oldest ticket
    assert {i["actor"]["name"] for i in calls} == {"Tom Tech"}
    assert trail[-1]["kind"] == "note" and trail[-1]["text"] == board_note and "new request" in board_note
    assert "mailbox" not in board_note.lower()  # the board's note: every ticket auto-closed there gets it
    assert dispatcher.all_clients  # she reads this trail when the boss calls (until 2026-11-28 she saw no client)
    assert demo.seed(psa.settings).startswith("Demo tenant")  # a second start seeds nothing twice
