"""Time logged against a project task, through the service desk's `log_time` (same rules, same
event, spent minutes kept on the task in the same transaction), after the project's grant check.
Edits and deletes go through the service desk's too (`update_time_entry`, `delete_time_entry`).

A closed project takes no new time (409): it has had its final invoice, and an hour logged after
it is unbilled work nobody looks for. Reopen the project to log it. A done task in an open project
still takes time: techs tick a task done and then write their hours, or log the wrap-up call after.
"""

from __future__ import annotations

from psa_shared.auth import Principal
from psa_shared.errors import Conflict

from ..database import db
from ..servicedesk.models import TimeEntry
from ..servicedesk.time_entries import get_entry, log_time
from .projects import get_task


def task_entries(principal: Principal, task_id):
    task, _ = get_task(principal, task_id)
    return TimeEntry.select().where(TimeEntry.task_id == task.id)


def log_task_time(principal: Principal, task_id, **fields) -> TimeEntry:
    """The entry takes the project's client as it is when the entry commits: the project is read
    locked in the entry's transaction, so a move to another client commits either before (the
    entry is the new client's) or after (the move takes the entry along). Read outside it, an
    hour logged during a move stayed with the old client, and was billed to it."""
    with db.proxy.atomic():
        task, project = get_task(principal, task_id, lock_project=True)
        if project.closed:  # read locked: a close commits before this entry (refused) or after it
            message = "the task's project is closed; reopen it to log time on its tasks"
            raise Conflict(message, errors={"project_id": [message]})
        return log_time(principal, task=task, client_id=project.client_id, **fields)


def task_entry(principal: Principal, task_id, entry_id) -> TimeEntry:
    task, _ = get_task(principal, task_id)
    return get_entry(entry_id, task=task)
