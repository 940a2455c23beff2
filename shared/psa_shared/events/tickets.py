"""Service-desk and project events, published by the tickets service.

They carry what billing and the vault need, so those never call back: a time entry names its
ticket, client, member, minutes, billing option, client-visible notes (never internal notes),
work type and the configurations its ticket concerns.
"""

import marshmallow as ma
from marshmallow import fields, validate

from . import register, upcaster

BILLING = ("billable", "no_charge", "non_billable")


class TicketPayload(ma.Schema):
    id = fields.UUID(required=True)
    number = fields.Integer(required=True)
    client_id = fields.UUID(required=True)
    contact_id = fields.UUID(allow_none=True)
    board_id = fields.UUID(required=True)
    status = fields.String(required=True)
    status_kind = fields.String(required=True, validate=validate.OneOf(("open", "waiting", "closed")))
    priority = fields.String(required=True)
    summary = fields.String(required=True)
    assignee_id = fields.UUID(allow_none=True)
    estimate_minutes = fields.Integer(allow_none=True)
    configuration_ids = fields.List(fields.UUID(), required=True)
    created_at = fields.String(required=True)
    updated_at = fields.String(required=True)
    closed_at = fields.String(allow_none=True)


class StatusChangedPayload(TicketPayload):
    old_status = fields.String(required=True)


class TimeEntryPayload(ma.Schema):
    id = fields.UUID(required=True)
    ticket_id = fields.UUID(allow_none=True)
    task_id = fields.UUID(allow_none=True)
    project_id = fields.UUID(allow_none=True)  # the task's project (null on a ticket's entry)
    ticket_number = fields.Integer(allow_none=True)
    client_id = fields.UUID(required=True)
    member_id = fields.UUID(required=True)
    started_at = fields.String(required=True)
    minutes = fields.Integer(required=True, validate=validate.Range(min=0, max=1440))
    billing = fields.String(required=True, validate=validate.OneOf(BILLING))
    notes = fields.String(allow_none=True)
    work_type = fields.String(allow_none=True)
    configuration_ids = fields.List(fields.UUID(), required=True)
    updated_at = fields.String(required=True)  # the entry's own last edit (billing's)
    # the version of what is sent, the entry and its ticket's configurations: the later of the
    # entry's and the ticket's `updated_at`, so a re-send after a relink outranks every earlier
    # event of the entry while `updated_at` stays the edit time; consumers keeping the newest
    # apply by this (version 2; version 1's `updated_at` tied on every re-send)
    revised_at = fields.String(required=True)


class TimeEntryDeletedPayload(ma.Schema):
    id = fields.UUID(required=True)
    ticket_id = fields.UUID(allow_none=True)
    task_id = fields.UUID(allow_none=True)
    client_id = fields.UUID(required=True)


class NotePayload(ma.Schema):
    id = fields.UUID(required=True)
    ticket_id = fields.UUID(required=True)
    ticket_number = fields.Integer(required=True)
    client_id = fields.UUID(required=True)
    author_id = fields.UUID(allow_none=True)  # null: written by the system (the auto-close note)
    internal = fields.Boolean(required=True)
    text = fields.String(allow_none=True)  # null on an internal note: its text never leaves the MSP
    created_at = fields.String(required=True)


class SchedulePayload(ma.Schema):
    id = fields.UUID(required=True)
    member_id = fields.UUID(required=True)
    starts_at = fields.String(required=True)
    minutes = fields.Integer(required=True)
    ticket_id = fields.UUID(allow_none=True)
    task_id = fields.UUID(allow_none=True)


class ProjectPayload(ma.Schema):
    id = fields.UUID(required=True)
    client_id = fields.UUID(required=True)
    name = fields.String(required=True)
    closed = fields.Boolean(required=True)


class PhasePayload(ma.Schema):
    id = fields.UUID(required=True)
    project_id = fields.UUID(required=True)
    client_id = fields.UUID(required=True)
    name = fields.String(required=True)
    position = fields.Integer(required=True)


class TaskPayload(ma.Schema):
    id = fields.UUID(required=True)
    project_id = fields.UUID(required=True)
    client_id = fields.UUID(required=True)
    name = fields.String(required=True)
    assignee_id = fields.UUID(allow_none=True)
    estimate_minutes = fields.Integer(allow_none=True)
    done = fields.Boolean(required=True)


for _name, _schema, _doc in [
    ("ticket.created", TicketPayload, "A service request was opened."),
    ("ticket.updated", TicketPayload, "Summary, priority, assignee, estimate or configurations changed."),
    ("ticket.status_changed", StatusChangedPayload, "A ticket moved to another status (closing included)."),
    ("time_entry.logged", TimeEntryPayload, "Work was logged (zero minutes included) on a ticket or task."),
    (
        "time_entry.updated",
        TimeEntryPayload,
        "An unbilled entry was edited or moved with its project to another client; or, re-sent as it is, "
        "its ticket's configurations changed.",
    ),
    ("time_entry.deleted", TimeEntryDeletedPayload, "An unbilled time entry was removed."),
    ("note.created", NotePayload, "A note was added to a ticket (the text only when the client sees it)."),
    ("schedule.created", SchedulePayload, "A member was scheduled on a ticket or task."),
    ("schedule.updated", SchedulePayload, "A schedule entry moved or changed length."),
    ("schedule.deleted", SchedulePayload, "A schedule entry was removed."),
    ("project.created", ProjectPayload, "A project was opened for a client."),
    ("project.updated", ProjectPayload, "A project was renamed or closed."),
    ("phase.created", PhasePayload, "A project phase was added."),
    ("task.created", TaskPayload, "A project task was added."),
    ("task.updated", TaskPayload, "A project task changed (assignee, estimate, done)."),
]:
    register(_name, "tickets", 2 if _schema is TimeEntryPayload else 1, _schema, _doc)


def _revised_at_was_updated_at(payload: dict) -> dict:
    """Version 1 had no `revised_at`: the entry's `updated_at` was its version."""
    return {**payload, "revised_at": payload["updated_at"]}


for _name in ("time_entry.logged", "time_entry.updated"):
    upcaster(_name, 1)(_revised_at_was_updated_at)
