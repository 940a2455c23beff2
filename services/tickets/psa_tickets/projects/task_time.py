"""Time logged against a project task, through the service desk's `log_time` (same rules, same
event, spent minutes kept on the task in the same transaction), after the project's grant check.
Edits and deletes go through the service desk's too (`update_time_entry`, `delete_time_entry`).
Each write that moves the task's spent minutes sends the task again (`task.updated`), so a
consumer of task events does not keep the minutes of before.

A closed project takes no new time (409): it has had its final invoice, and an hour logged after
it is unbilled work nobody looks for. Reopen the project to log it. A done task in an open project
still takes time: techs tick a task done and then write their hours, or log the wrap-up call after.
"""

from __future__ import annotations

from psa_shared.auth import Principal
from psa_shared.errors import NotFound

from ..database import db, emit
from ..servicedesk.models import TimeEntry
from ..servicedesk.time_entries import delete_time_entry, get_entry, log_time, update_time_entry
from .models import Project, Task
from .projects import get_task, held_task, refuse_closed, revision, task_payload


def task_entries(principal: Principal, task_id):
    task, _ = get_task(principal, task_id)
    return principal.within_grants(TimeEntry.select().where(TimeEntry.task_id == task.id), TimeEntry.client_id)


def _seen_entry(principal: Principal, entry_id, task: Task) -> TimeEntry:
    """An entry of the task whose own client the caller is granted, or 404. A project moved to
    another client keeps its billed entries with the old one (billing's record): seeing the project
    now does not show them, as until 2026-11-27 it did to members granted the new client alone."""
    entry = get_entry(entry_id, task=task)
    if not principal.sees_client(entry.client_id):
        raise NotFound("time entry not found")
    return entry


def log_task_time(principal: Principal, task_id, **fields) -> TimeEntry:
    """The entry takes the project's client as it is when the entry commits: the project is read
    locked in the entry's transaction, so a move to another client commits either before (the
    entry is the new client's) or after (the move takes the entry along). Read outside it, an
    hour logged during a move stayed with the old client, and was billed to it."""
    with db.proxy.atomic():
        task, project = held_task(principal, task_id)
        refuse_closed(project, "log time on its tasks")  # read locked: a close commits before or waits
        entry = log_time(principal, task=task, client_id=project.client_id, **fields)
        _send_spent(task, project)
    return entry


def edit_task_entry(principal: Principal, task_id, entry_id, **changes) -> TimeEntry:
    """`update_time_entry` on an entry of the task, the task re-sent when its minutes moved."""
    with db.proxy.atomic():
        task, project = held_task(principal, task_id)
        entry = update_time_entry(principal, _seen_entry(principal, entry_id, task), **changes)
        _send_spent(task, project)
    return entry


def delete_task_entry(principal: Principal, task_id, entry_id) -> None:
    """`delete_time_entry` on an entry of the task (allowed on a closed project: a wrong unbilled
    entry can still be corrected), the task re-sent when its minutes moved."""
    with db.proxy.atomic():
        task, project = held_task(principal, task_id)
        delete_time_entry(principal, _seen_entry(principal, entry_id, task))
        _send_spent(task, project)


def _send_spent(before: Task, project: Project) -> None:
    """`task.updated` when the entry moved the task's spent minutes (zero minutes, or an edit of
    the notes alone, leave the task as it was sent)."""
    task = Task.get_by_id(before.id)
    if task.spent_minutes != before.spent_minutes:
        emit("task.updated", task_payload(task, project, revision()))


def task_entry(principal: Principal, task_id, entry_id) -> TimeEntry:
    task, _ = get_task(principal, task_id)
    return _seen_entry(principal, entry_id, task)
