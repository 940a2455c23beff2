"""Time logged against a project task: the TimeEntry row (task_id set), the task's spent minutes
and the `time_entry.logged` event move together in one transaction."""

from __future__ import annotations

from psa_shared.auth import Principal
from psa_shared.events import utc_iso

from ..database import db, emit
from ..servicedesk.models import TimeEntry
from .models import Task
from .projects import check_member, get_task


def entry_payload(entry: TimeEntry, client_id) -> dict:
    return {
        "id": entry.id,
        "ticket_id": None,
        "task_id": entry.task_id,
        "ticket_number": None,
        "client_id": client_id,
        "member_id": entry.member_id,
        "started_at": utc_iso(entry.started_at),
        "minutes": entry.minutes,
        "billing": entry.billing,
        "notes": entry.notes,
        "work_type": entry.work_type,
        "configuration_ids": [],
        "updated_at": utc_iso(entry.updated_at),
    }


def task_entries(principal: Principal, task_id):
    task, _ = get_task(principal, task_id)
    return TimeEntry.select().where(TimeEntry.task_id == task.id)


def log_task_time(principal: Principal, task_id, member_id=None, **fields) -> TimeEntry:
    with db.proxy.atomic():
        task, project = get_task(principal, task_id)
        if member_id is not None:
            check_member(member_id, "member_id")
        entry = TimeEntry.create(task_id=task.id, member=member_id or principal.member_id, **fields)
        # An expression, not read-modify-write: two concurrent entries both count.
        Task.update(spent_minutes=Task.spent_minutes + entry.minutes).where(Task.id == task.id).execute()
        emit("time_entry.logged", entry_payload(entry, project.client_id))
    return entry
