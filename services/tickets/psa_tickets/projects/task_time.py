"""Time logged against a project task, through the service desk's `log_time` (same rules, same
event, spent minutes kept on the task in the same transaction), after the project's grant check.
Edits and deletes go through the service desk's too (`update_time_entry`, `delete_time_entry`)."""

from __future__ import annotations

from psa_shared.auth import Principal

from ..servicedesk.models import TimeEntry
from ..servicedesk.time_entries import get_entry, log_time
from .projects import get_task


def task_entries(principal: Principal, task_id):
    task, _ = get_task(principal, task_id)
    return TimeEntry.select().where(TimeEntry.task_id == task.id)


def log_task_time(principal: Principal, task_id, **fields) -> TimeEntry:
    task, project = get_task(principal, task_id)
    return log_time(principal, task=task, client_id=project.client_id, **fields)


def task_entry(principal: Principal, task_id, entry_id) -> TimeEntry:
    task, _ = get_task(principal, task_id)
    return get_entry(entry_id, task=task)
