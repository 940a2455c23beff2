"""What happened to each configuration, from the tickets service's ticket and time-entry events.

One ConfigurationActivity row per (ticket or time entry, configuration it concerns). Events are
applied by source id and its version (a ticket's `updated_at`, a time entry's `revised_at`): a
redelivery rewrites the same rows, an older event arriving after a newer one is ignored
(ActivitySource remembers the newest version applied).

Each row keeps its ticket's client, and a member's history counts only rows of clients granted
to them: a configuration moved to another client keeps the old client's work, shown only to
whom that client is granted.
"""

from __future__ import annotations

import datetime as dt

import peewee

from psa_shared.auth import Principal
from psa_shared.projection import apply_newer

from .database import Model
from .projection import MemberRecord

TICKET, TIME_ENTRY = "ticket", "time_entry"
DELETED = dt.datetime.max  # a deleted time entry outranks any later-delivered edit of it


class ActivitySource(Model):
    """The newest version applied of a ticket or time entry (`id` is the tickets service's id)."""

    kind = peewee.CharField(max_length=12)
    updated_at = peewee.DateTimeField()


class ConfigurationActivity(Model):
    """A ticket or a time entry that concerns one configuration."""

    configuration_id = peewee.UUIDField()
    kind = peewee.CharField(max_length=12)  # ticket | time_entry
    source_id = peewee.UUIDField()
    # the ticket's (or the entry's) client; NULL on rows recorded before 2026-11-27, which only
    # members granted all clients see (a restricted member's `client_id IN (...)` never matches NULL)
    client_id = peewee.UUIDField(null=True)
    ticket_id = peewee.UUIDField(null=True)
    number = peewee.IntegerField(null=True)  # the ticket's number
    summary = peewee.CharField(max_length=200, null=True)  # tickets only
    member_id = peewee.UUIDField(null=True)  # time entries: who worked
    at = peewee.DateTimeField()  # tickets: opened; time entries: started
    closed_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = (
            (("tenant_id", "source_id", "configuration_id"), True),
            (("tenant_id", "configuration_id", "kind", "at"), False),
        )


def moment(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC).replace(tzinfo=None)


def _newer(source_id, kind: str, version: dt.datetime) -> bool:
    """Record `version` as the newest for the source; False when a newer one was applied already."""
    return apply_newer(ActivitySource, source_id, version, {"kind": kind})


def _replace(source_id, kind: str, configuration_ids: list, row: dict) -> None:
    ConfigurationActivity.delete().where(ConfigurationActivity.source_id == source_id).execute()
    for configuration_id in sorted(set(configuration_ids), key=str):
        ConfigurationActivity.create(configuration_id=configuration_id, kind=kind, source_id=source_id, **row)


def on_ticket(event, payload: dict) -> None:
    if not _newer(payload["id"], TICKET, moment(payload["updated_at"])):
        return
    row = {
        "ticket_id": payload["id"],
        "client_id": payload.get("client_id"),
        "number": payload["number"],
        "summary": payload["summary"][:200],
        "at": moment(payload["created_at"]),
        "closed_at": moment(payload.get("closed_at")),
    }
    _replace(payload["id"], TICKET, payload["configuration_ids"], row)


def on_time_entry(event, payload: dict) -> None:
    # `revised_at`, not the entry's `updated_at`: a relink re-sends the entry unedited, and two
    # relinks' re-sends tied on it, so the one applied last won even when it was the older
    if not _newer(payload["id"], TIME_ENTRY, moment(payload["revised_at"])):
        return
    row = {
        "ticket_id": payload.get("ticket_id"),
        "client_id": payload.get("client_id"),
        "number": payload.get("ticket_number"),
        "member_id": payload["member_id"],
        "at": moment(payload["started_at"]),
    }
    _replace(payload["id"], TIME_ENTRY, payload["configuration_ids"], row)


def on_time_entry_deleted(event, payload: dict) -> None:
    _newer(payload["id"], TIME_ENTRY, DELETED)
    ConfigurationActivity.delete().where(ConfigurationActivity.source_id == payload["id"]).execute()


HANDLERS = {
    "ticket.created": on_ticket,
    "ticket.updated": on_ticket,
    "ticket.status_changed": on_ticket,
    "time_entry.logged": on_time_entry,
    "time_entry.updated": on_time_entry,
    "time_entry.deleted": on_time_entry_deleted,
}


def configuration_history(principal: Principal, configuration_id, limit: int = 50) -> dict:
    """Who last worked on it and which tickets concerned it (newest first, `limit` of them),
    counting only activity of clients granted to `principal`: the configuration may have moved to
    another client since, and its older tickets stay their own client's."""
    rows = ConfigurationActivity.select().where(ConfigurationActivity.configuration_id == configuration_id)
    rows = principal.within_grants(rows, ConfigurationActivity.client_id)
    tickets = rows.where(ConfigurationActivity.kind == TICKET)
    last = (
        rows.where(ConfigurationActivity.kind == TIME_ENTRY)
        .order_by(ConfigurationActivity.at.desc(), ConfigurationActivity.id.desc())
        .first()
    )
    member = MemberRecord.get_or_none(MemberRecord.id == last.member_id) if last else None
    return {
        "configuration_id": configuration_id,
        "last_worked_by": {"id": last.member_id, "name": member.name if member else None} if last else None,
        "last_worked_at": last.at if last else None,
        "ticket_count": tickets.count(),
        "tickets": [
            {
                "ticket_id": t.ticket_id,
                "number": t.number,
                "summary": t.summary,
                "opened_at": t.at,
                "closed_at": t.closed_at,
            }
            for t in tickets.order_by(ConfigurationActivity.at.desc(), ConfigurationActivity.id.desc()).limit(limit)
        ],
    }
