"""Event payloads of tickets and time entries: what billing and the vault need, never internal notes."""

from psa_shared.events import utc_iso
from psa_shared.statements import Slot, Statement

from ..projects.models import Task
from .boards import status_by_id
from .models import Note, Ticket, TicketConfiguration, TimeEntry

_TASK_PROJECT = Statement(lambda: Task.select(Task.project_id).where(Task.id == Slot("task")))
_CONFIGURATIONS = Statement(
    lambda: TicketConfiguration.select(TicketConfiguration.configuration_id).where(
        TicketConfiguration.ticket == Slot("ticket")
    )
)


def ticket_configuration_ids(ticket: Ticket) -> list:
    """The ticket's configuration ids, read once per ticket object (`get_ticket` and writers set
    them when known)."""
    if getattr(ticket, "_configuration_ids", None) is None:
        ticket._configuration_ids = [r.configuration_id for r in _CONFIGURATIONS.models(ticket=ticket.id)]
    return sorted(ticket._configuration_ids, key=str)


def ticket_payload(ticket: Ticket) -> dict:
    return {
        "id": ticket.id,
        "number": ticket.number,
        "client_id": ticket.client_id,
        "contact_id": ticket.contact_id,
        "board_id": ticket.board_id,
        "status": status_by_id(ticket.status_id).name,
        "status_kind": ticket.status_kind,
        "priority": ticket.priority,
        "summary": ticket.summary,
        "description": ticket.description,
        "assignee_id": ticket.assignee_id,
        "estimate_minutes": ticket.estimate_minutes,
        "configuration_ids": ticket_configuration_ids(ticket),
        "created_at": utc_iso(ticket.created_at),
        "updated_at": utc_iso(ticket.updated_at),
        "closed_at": utc_iso(ticket.closed_at) if ticket.closed_at else None,
    }


def _task_project_id(entry: TimeEntry):
    task = _TASK_PROJECT.first(task=entry.task_id)
    return task.project_id if task else None


def time_entry_payload(entry: TimeEntry, ticket: Ticket | None = None, *, project_id=None) -> dict:
    """`ticket` is the entry's ticket (None for a project task's entry). A task's entry names its
    project (billing invoices project time under it, and may have started after `task.created`):
    `project_id` where the caller holds it, else read from the task."""
    if entry.task_id is not None and project_id is None:
        project_id = _task_project_id(entry)
    return {
        "id": entry.id,
        "ticket_id": entry.ticket_id,
        "task_id": entry.task_id,
        "project_id": project_id,
        "ticket_number": ticket.number if ticket else None,
        "client_id": entry.client_id,
        "member_id": entry.member_id,
        "started_at": utc_iso(entry.started_at),
        "minutes": entry.minutes,
        "billing": entry.billing,
        "notes": entry.notes,
        "outcome": entry.outcome,
        "work_type": entry.work_type,
        "configuration_ids": ticket_configuration_ids(ticket) if ticket else [],
        "updated_at": utc_iso(entry.updated_at),
        # every change of the ticket's configurations moves its `updated_at`: see the schema
        "revised_at": utc_iso(max(entry.updated_at, ticket.updated_at) if ticket else entry.updated_at),
    }


def note_payload(note: Note, ticket: Ticket) -> dict:
    return {
        "id": note.id,
        "ticket_id": ticket.id,
        "ticket_number": ticket.number,
        "client_id": ticket.client_id,
        "author_id": note.author_id,
        "internal": note.internal,
        "text": None if note.internal else note.text,
        "created_at": utc_iso(note.created_at),
        "ticket_updated_at": utc_iso(ticket.updated_at),  # the caller moved it for the note
    }


def time_entry_deleted_payload(entry: TimeEntry) -> dict:
    return {
        "id": entry.id,
        "ticket_id": entry.ticket_id,
        "task_id": entry.task_id,
        "project_id": _task_project_id(entry) if entry.task_id is not None else None,
        "client_id": entry.client_id,
    }
