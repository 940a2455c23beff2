"""Printable client activity reports (HTML): one ticket's trail, or a client's tickets over dates.

Client audience only; every value is escaped by the templates' autoescape. Times print in the
tenant's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import jinja2

from psa_shared.tenancy import current_tenant

from ..directory.models import Client, Tenant
from .models import Note, Ticket, TicketChange, TimeEntry
from .timeline import timeline

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("psa_tickets", "templates"),
    autoescape=True,  # everything, not only .html: a client's text never becomes markup
    undefined=jinja2.StrictUndefined,
)


def _zone() -> ZoneInfo:
    return ZoneInfo(Tenant.get_by_id(current_tenant()).time_zone)


def _local(zone: ZoneInfo):
    def fmt(moment: dt.datetime | None) -> str:
        if moment is None:
            return ""
        try:
            local = moment.replace(tzinfo=dt.UTC).astimezone(zone)
        except OverflowError:  # within hours of year 1 or 9999 (an entry taken before 2026-11-27)
            return f"{moment.year:04d}-{moment:%m-%d %H:%M} UTC"
        return local.strftime("%Y-%m-%d %H:%M %Z")

    return fmt


def _section(ticket: Ticket, start: dt.datetime | None = None, end: dt.datetime | None = None) -> dict:
    items = [
        i for i in timeline(ticket, "client") if (start is None or i["at"] >= start) and (end is None or i["at"] < end)
    ]
    minutes = sum(i["minutes"] for i in items if i["kind"] == "time_entry")
    return {"ticket": ticket, "status": ticket.status.name, "items": items, "minutes": minutes}


def ticket_report(ticket: Ticket) -> str:
    zone = _zone()
    client = Client.get_by_id(ticket.client_id)
    return _env.get_template("ticket_report.html").render(
        client=client, section=_section(ticket), local=_local(zone), tenant=Tenant.get_by_id(current_tenant())
    )


def client_activity_report(client: Client, first: dt.date, last: dt.date) -> str:
    """Tickets of `client` with anything client-visible from `first` to `last` (local dates, inclusive)."""
    zone = _zone()
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone).astimezone(dt.UTC).replace(tzinfo=None)
    end = (
        dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(dt.UTC).replace(tzinfo=None)
    )
    # Open at some point of the range, or touched in it: time is logged after a ticket closed (a
    # follow-up call) and before it was opened (the call that led to it, logged the next morning),
    # and notes are added to closed tickets; until 2026-11-26 the report left those out.
    client_tickets = Ticket.select(Ticket.id).where(Ticket.client == client.id)
    entries = TimeEntry.select(TimeEntry.ticket).where(
        (TimeEntry.client_id == client.id)
        & TimeEntry.ticket.is_null(False)  # not a project task's
        & (TimeEntry.started_at >= start)
        & (TimeEntry.started_at < end)
    )
    notes = Note.select(Note.ticket).where(
        Note.ticket.in_(client_tickets)
        & (Note.internal == False)  # noqa: E712
        & (Note.created_at >= start)
        & (Note.created_at < end)
    )
    changes = TicketChange.select(TicketChange.ticket).where(
        TicketChange.ticket.in_(client_tickets)
        & (TicketChange.client_visible == True)  # noqa: E712
        & (TicketChange.at >= start)
        & (TicketChange.at < end)
    )
    candidates = (
        Ticket.select()
        .where(
            (Ticket.client == client.id)
            & (
                ((Ticket.created_at < end) & (Ticket.closed_at.is_null() | (Ticket.closed_at >= start)))
                | Ticket.id.in_(entries)
                | Ticket.id.in_(notes)
                | Ticket.id.in_(changes)
            )
        )
        .order_by(Ticket.number)
    )
    sections = [s for s in (_section(t, start, end) for t in candidates) if s["items"]]
    return _env.get_template("client_activity.html").render(
        client=client, sections=sections, first=first, last=last, local=_local(zone),
        tenant=Tenant.get_by_id(current_tenant()), total_minutes=sum(s["minutes"] for s in sections),
    )  # fmt: skip
