"""Printable client activity reports (HTML): one ticket's trail, or a client's tickets and project
work over dates.

A report is read first (`ticket_report`, `client_activity_report`), so what it holds can be
measured before anything is laid out (`text_chars`), then rendered (`render`).

Client audience only; every value is escaped by the templates' autoescape, and every user value
goes through `isolate`, so right-to-left text or bidi controls in it cannot reorder the
template's own. Times print in the tenant's time zone."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from psa_shared.tenancy import current_tenant

from ..directory.models import Client, Member, Tenant
from ..projects.models import Project, Task
from .models import Note, Ticket, TicketChange, TimeEntry
from .timeline import CLIENT_SHOWN, timeline

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("psa_tickets", "templates"),
    autoescape=True,  # everything, not only .html: a client's text never becomes markup
    undefined=jinja2.StrictUndefined,
)

_PDF, _PDI = "\u202c", "\u2069"
_CLOSER = dict.fromkeys("\u202a\u202b\u202d\u202e", _PDF) | dict.fromkeys("\u2066\u2067\u2068", _PDI)
# Bidi classes that can move text around them in a left-to-right page: right-to-left letters,
# Arabic digits and the explicit controls. A value of none of these prints as it is, unwrapped.
_REORDERING = {"R", "AL", "AN", "LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}


def _reorders(text: str) -> bool:
    return not text.isascii() and any(unicodedata.bidirectional(c) in _REORDERING for c in text)


def closed_bidi(text: str) -> str:
    """`text` with each embedding, override and isolate it opens (U+202A-E, U+2066-8) closed at
    its end, and each PDF or PDI that closes nothing of its own dropped (outside it, one would
    close the page's)."""
    kept, opened = [], []
    for char in text:
        if char in _CLOSER:
            opened.append(char)
        elif char == _PDF and not (opened and _CLOSER[opened[-1]] == _PDF):
            continue  # UAX #9 ignores a PDF inside an isolate: only a PDI ends that
        elif char == _PDF:
            opened.pop()
        elif char == _PDI and _PDI not in (_CLOSER[c] for c in opened):
            continue
        elif char == _PDI:
            while _CLOSER[opened.pop()] != _PDI:  # a PDI also ends the embeddings inside its isolate
                pass
        kept.append(char)
    return "".join(kept) + "".join(_CLOSER[c] for c in reversed(opened))


def isolate(value) -> Markup | str:
    """A user's value for the page (autoescape escapes it); one that could reorder text goes,
    escaped here, in a `<bdi>` with its bidi controls closed. A browser isolates the `<bdi>`;
    WeasyPrint 70 ignores `unicode-bidi` (it only happens to shape each inline box apart), so the
    controls are closed too: until 2026-11-27 a U+202E in a status printed the PDF's "Priority"
    label and Opened date backwards."""
    text = str(value)
    return Markup("<bdi>%s</bdi>") % closed_bidi(text) if _reorders(text) else text


def isolate_text(value) -> str:
    """`isolate` for `<title>`, where no tag goes: an FSI ... PDI around the value."""
    text = str(value)
    return f"\u2068{closed_bidi(text)}\u2069" if _reorders(text) else text


_env.filters.update(isolate=isolate, isolate_text=isolate_text)


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


@dataclass(frozen=True)
class Report:
    """A report read and not yet rendered: its template, the values it is rendered with, and its
    sections (one trail for a ticket's report; a client's tickets, then its projects)."""

    template: str
    values: dict
    sections: list[dict]


def render(report: Report) -> str:
    """The report's HTML page."""
    return _env.get_template(report.template).render(**report.values)


def text_chars(report: Report) -> int:
    """Characters of the trail rows' text (notes, entries' notes, changes), from the rows already
    read: what a PDF's layout time grows with beside its rows."""
    return sum(len(item["text"] or "") for section in report.sections for item in section["items"])


def ticket_report(ticket: Ticket) -> Report:
    section = _section(ticket)
    values = {"client": Client.get_by_id(ticket.client_id), "section": section, "local": _local(_zone()),
              "tenant": Tenant.get_by_id(current_tenant())}  # fmt: skip
    return Report("ticket_report.html", values, [section])


def _utc_range(first: dt.date, last: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Local dates `first` to `last` (inclusive) as naive UTC instants, the end exclusive."""
    start = dt.datetime.combine(first, dt.time(), tzinfo=zone).astimezone(dt.UTC).replace(tzinfo=None)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(dt.UTC)
    return start, end.replace(tzinfo=None)


def _candidates(client: Client, start: dt.datetime, end: dt.datetime):
    """The tickets of `client` the report from `start` to `end` looks at, by number.

    Open at some point of the range, or touched in it: time is logged after a ticket closed (a
    follow-up call) and before it was opened (the call that led to it, logged the next morning),
    and notes are added to closed tickets; until 2026-11-26 the report left those out."""
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
    return (
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


def _count_items(tickets, start: dt.datetime | None = None, end: dt.datetime | None = None) -> int:
    """The client-visible trail items of `tickets` (ids, or a query of them) from `start` to
    `end`, counted by the database: three COUNTs, nothing read row by row."""
    total = 0
    for model, at, shown in CLIENT_SHOWN:
        query = model.select().where(model.ticket.in_(tickets))
        if shown is not None:
            query = query.where(shown)
        if start is not None:
            query = query.where((at >= start) & (at < end))
        total += query.count()
    return total


def ticket_report_rows(ticket: Ticket) -> int:
    """How many trail rows `ticket_report(ticket)` prints, counted without reading them."""
    return _count_items([ticket.id])


def _task_entries(client: Client, start: dt.datetime, end: dt.datetime):
    """The time logged on project tasks for `client` from `start` to `end`, by project, then as
    logged. The entry's own client decides, as billing's does: a project moved to another client
    leaves its earlier time with the one it was done for."""
    columns = (TimeEntry.started_at, TimeEntry.minutes, TimeEntry.billing, TimeEntry.notes, TimeEntry.outcome,
               Task.name.alias("task"), Project.id.alias("project_id"), Project.name.alias("project"),
               Member.name.alias("actor"))  # fmt: skip
    return (
        TimeEntry.select(*columns)
        .join(Task, on=(TimeEntry.task_id == Task.id))
        .join(Project, on=(Task.project == Project.id))
        .join_from(TimeEntry, Member, on=(TimeEntry.member == Member.id))
        .where((TimeEntry.client_id == client.id) & (TimeEntry.started_at >= start) & (TimeEntry.started_at < end))
        .order_by(Project.name, Project.id, TimeEntry.started_at, TimeEntry.id)
    )


def _project_sections(client: Client, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """One section per project with time in the range: each entry as a trail row (its task and
    its client notes, never its internal notes), and the project's total."""
    sections: list[dict] = []
    for row in _task_entries(client, start, end).dicts():
        if not sections or sections[-1]["project_id"] != row["project_id"]:
            sections.append({"project_id": row["project_id"], "project": row["project"], "items": [], "minutes": 0})
        item = {"at": row["started_at"], "kind": "time_entry", "actor": {"name": row["actor"]}, "task": row["task"],
                "text": row["notes"] or "", "minutes": row["minutes"], "billing": row["billing"],
                "outcome": row["outcome"]}  # fmt: skip
        sections[-1]["items"].append(item)
        sections[-1]["minutes"] += row["minutes"]
    return sections


def client_activity_rows(client: Client, first: dt.date, last: dt.date) -> int:
    """How many rows `client_activity_report` prints, counted without reading them."""
    start, end = _utc_range(first, last, _zone())
    tickets = _count_items(_candidates(client, start, end).select(Ticket.id).order_by(), start, end)
    return tickets + _task_entries(client, start, end).order_by().count()


def client_activity_report(client: Client, first: dt.date, last: dt.date) -> Report:
    """Tickets of `client` with anything client-visible from `first` to `last` (local dates,
    inclusive), then its projects with time logged on their tasks in those dates."""
    zone = _zone()
    start, end = _utc_range(first, last, zone)
    sections = [s for s in (_section(t, start, end) for t in _candidates(client, start, end)) if s["items"]]
    projects = _project_sections(client, start, end)
    values = {"client": client, "sections": sections, "projects": projects, "first": first, "last": last,
              "local": _local(zone), "tenant": Tenant.get_by_id(current_tenant()),
              "total_minutes": sum(s["minutes"] for s in (*sections, *projects))}  # fmt: skip
    return Report("client_activity.html", values, sections + projects)
