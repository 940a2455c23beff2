"""Service-desk and project events, published by the tickets service.

They carry what billing and the vault need, so those never call back: a time entry names its
ticket, client, member, minutes, billing option, client-visible notes (never internal notes),
work type and the configurations its ticket concerns.
"""

import marshmallow as ma
from marshmallow import fields, validate

from . import register, upcaster

BILLING = ("billable", "no_charge", "non_billable")
OUTCOMES = ("reached", "no_response")


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
    description = fields.String(required=True, allow_none=True)  # version 2; null: none (or a version 1 event, upcast)
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
    # the task's project (null on a ticket's entry); read as null from an event sent before it was
    # added (2026-11-27, within version 1: a consumer's payload["project_id"] was a KeyError)
    project_id = fields.UUID(allow_none=True, load_default=None)
    ticket_number = fields.Integer(allow_none=True)
    client_id = fields.UUID(required=True)
    member_id = fields.UUID(required=True)
    started_at = fields.String(required=True)
    minutes = fields.Integer(required=True, validate=validate.Range(min=0, max=1440))
    billing = fields.String(required=True, validate=validate.OneOf(BILLING))
    notes = fields.String(allow_none=True)
    # a contact attempt's (a zero-minute "called, left voicemail" counts as one); null: work, no
    # attempt (or a version 1 or 2 event, upcast: version 3 added it)
    outcome = fields.String(required=True, allow_none=True, validate=validate.OneOf(OUTCOMES))
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
    project_id = fields.UUID(required=True, allow_none=True)  # as the entry's other events; version 2
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
    # the ticket's `updated_at`, which the note moved (version 2): the ticket's version for a
    # consumer keeping one, since no `ticket.updated` follows (none of the ticket's fields changed)
    ticket_updated_at = fields.String(required=True)


class SchedulePayload(ma.Schema):
    id = fields.UUID(required=True)
    member_id = fields.UUID(required=True)
    starts_at = fields.String(required=True)
    minutes = fields.Integer(required=True)
    ticket_id = fields.UUID(allow_none=True)
    task_id = fields.UUID(allow_none=True)
    # the client the booking is for: its ticket's, or its task's project's as it is now (version 2;
    # null only on a version 1 event, upcast: it was not sent)
    client_id = fields.UUID(required=True, allow_none=True)
    revised_at = fields.String(required=True)  # see REVISED_BEFORE_VERSION_2 below


class ProjectPayload(ma.Schema):
    id = fields.UUID(required=True)
    client_id = fields.UUID(required=True)
    # the client it belonged to before, on the `project.updated` that moved it; null otherwise
    old_client_id = fields.UUID(required=True, allow_none=True)
    name = fields.String(required=True)
    board_id = fields.UUID(allow_none=True, required=True)  # null: no board (or a version 1 event, upcast)
    closed = fields.Boolean(required=True)
    revised_at = fields.String(required=True)  # see REVISED_BEFORE_VERSION_2 below


class PhasePayload(ma.Schema):
    id = fields.UUID(required=True)
    project_id = fields.UUID(required=True)
    client_id = fields.UUID(required=True)
    name = fields.String(required=True)
    position = fields.Integer(required=True)
    revised_at = fields.String(required=True)  # version 2; see REVISED_BEFORE_VERSION_2 below


class TaskPayload(ma.Schema):
    id = fields.UUID(required=True)
    project_id = fields.UUID(required=True)
    client_id = fields.UUID(required=True)
    phase_id = fields.UUID(required=True, allow_none=True)
    name = fields.String(required=True)
    assignee_id = fields.UUID(allow_none=True)
    priority = fields.String(required=True, allow_none=True)  # P1-P5; null only on a version 1 event, upcast
    estimate_minutes = fields.Integer(allow_none=True)
    # time logged on it as the event is built (a time entry logged, edited or deleted that moves it
    # sends a `task.updated` too, since 2026-11-27); null only on a version 1 event, upcast
    spent_minutes = fields.Integer(required=True, allow_none=True)
    done = fields.Boolean(required=True)
    due_at = fields.String(required=True, allow_none=True)
    revised_at = fields.String(required=True)  # see REVISED_BEFORE_VERSION_2 below


# `revised_at` of a task, project, phase or booking (version 2): the moment this version was sent, later
# than every earlier event of the record; consumers keeping the newest apply by it
# (`psa_shared.projection.apply_newer`). Their rows keep no `updated_at`: it is taken when the
# event is built, after the writer has locked the record and the project its client comes from,
# so of two writers the later commits the later moment (a project's move re-sends its tasks and
# bookings with the move's moment). A created record's is its `created_at` (a phase's, which keeps
# none, the moment it is built). Version 1 events are
# upcast with the earliest moment there is, older than every version 2 event of their record.
REVISED_BEFORE_VERSION_2 = "1970-01-01T00:00:00Z"


_VERSIONS = {
    TicketPayload: 2,
    StatusChangedPayload: 2,
    TimeEntryPayload: 3,
    TimeEntryDeletedPayload: 2,
    NotePayload: 2,
    SchedulePayload: 2,
    ProjectPayload: 2,
    PhasePayload: 2,
    TaskPayload: 2,
}

for _name, _schema, _doc in [
    ("ticket.created", TicketPayload, "A service request was opened."),
    (
        "ticket.updated",
        TicketPayload,
        "Summary, description, priority, assignee, estimate, contact, board or configurations changed.",
    ),
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
    ("schedule.created", SchedulePayload, "A member was booked on a ticket or task, for its client."),
    (
        "schedule.updated",
        SchedulePayload,
        "A booking moved, changed length, member or target; or, re-sent as it is, its task's project moved "
        "to another client.",
    ),
    ("schedule.deleted", SchedulePayload, "A booking was removed (sent as it was)."),
    ("project.created", ProjectPayload, "A project was opened for a client."),
    (
        "project.updated",
        ProjectPayload,
        "A project was renamed, closed or reopened, or given another board or client (`old_client_id` then "
        "names the one before; its tasks, bookings and unbilled time are re-sent with the new one).",
    ),
    ("phase.created", PhasePayload, "A project phase was added."),
    (
        "phase.updated",
        PhasePayload,
        "Re-sent as it is: its project moved to another client (phases are not edited through the API).",
    ),
    ("task.created", TaskPayload, "A project task was added."),
    (
        "task.updated",
        TaskPayload,
        "A project task changed (name, phase, assignee, priority, estimate, done, due time), or its spent "
        "minutes moved with time logged, edited or deleted on it; or, re-sent as it is, its project moved to "
        "another client.",
    ),
]:
    # version 2: time entries' `revised_at`; bookings' `client_id`, and tasks' and projects' fields and
    # `revised_at` (2026-11-27, see REVISED_BEFORE_VERSION_2); phases' `revised_at` (2026-11-27, with
    # `phase.updated`, which was never sent at version 1 and so has no upcaster); tickets'
    # `description`, a deleted entry's `project_id`, a note's `ticket_updated_at` (2026-11-28).
    # Version 3: time entries' `outcome` (2026-11-28).
    register(_name, "tickets", _VERSIONS.get(_schema, 1), _schema, _doc)


def _revised_at_was_updated_at(payload: dict) -> dict:
    """Version 1 had no `revised_at`: the entry's `updated_at` was its version."""
    return {**payload, "revised_at": payload["updated_at"]}


def _no_outcome(payload: dict) -> dict:
    """Version 2 had no `outcome`: read as null, as an entry that was no contact attempt."""
    return {**payload, "outcome": None}


for _name in ("time_entry.logged", "time_entry.updated"):
    upcaster(_name, 1)(_revised_at_was_updated_at)
    upcaster(_name, 2)(_no_outcome)


def _ticket_version_1(payload: dict) -> dict:
    """Version 1 had no `description`."""
    return {**payload, "description": None}


def _deleted_entry_version_1(payload: dict) -> dict:
    """Version 1 had no `project_id`."""
    return {**payload, "project_id": None}


def _note_version_1(payload: dict) -> dict:
    """Version 1 had no `ticket_updated_at`: a note moved it to its own `created_at` (the auto-close
    note's to a moment later, which that close's `ticket.status_changed` carries)."""
    return {**payload, "ticket_updated_at": payload["created_at"]}


def _schedule_version_1(payload: dict) -> dict:
    """Version 1 named no client and had no `revised_at`."""
    return {"client_id": None, **payload, "revised_at": REVISED_BEFORE_VERSION_2}


def _project_version_1(payload: dict) -> dict:
    """Version 1 had no `old_client_id`, `board_id` or `revised_at`."""
    return {"old_client_id": None, "board_id": None, **payload, "revised_at": REVISED_BEFORE_VERSION_2}


def _phase_version_1(payload: dict) -> dict:
    """Version 1 had no `revised_at`."""
    return {**payload, "revised_at": REVISED_BEFORE_VERSION_2}


def _task_version_1(payload: dict) -> dict:
    """Version 1 had no `phase_id`, `priority`, `spent_minutes`, `due_at` or `revised_at`."""
    unsent = dict.fromkeys(("phase_id", "priority", "spent_minutes", "due_at"))
    return {**unsent, **payload, "revised_at": REVISED_BEFORE_VERSION_2}


for _names, _upcast in [
    (("schedule.created", "schedule.updated", "schedule.deleted"), _schedule_version_1),
    (("project.created", "project.updated"), _project_version_1),
    (("phase.created",), _phase_version_1),
    (("task.created", "task.updated"), _task_version_1),
    (("ticket.created", "ticket.updated", "ticket.status_changed"), _ticket_version_1),
    (("time_entry.deleted",), _deleted_entry_version_1),
    (("note.created",), _note_version_1),
]:
    for _name in _names:
        upcaster(_name, 1)(_upcast)
