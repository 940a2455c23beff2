"""Projects, phases and tasks, seen through the caller's client grants.

A project belongs to one client; its phases and tasks are visible exactly when the project is.
Ids from another tenant or outside the grants are "not found": 404 in a path, 422 in a body.
"""

from __future__ import annotations

from psa_shared.auth import Principal
from psa_shared.errors import Conflict, NotFound, field_error
from psa_shared.events import utc_iso
from psa_shared.outbox import utcnow
from psa_shared.records import apply_changes

from ..database import db, emit
from ..directory.clients import get_client
from ..servicedesk import clock
from ..servicedesk.events import time_entry_payload
from ..servicedesk.models import Board, TimeEntry
from ..servicedesk.tickets import check_assignee, check_granted
from .holders import check_holders_see
from .models import Phase, Project, ScheduleEntry, Task


def revision() -> str:
    """The `revised_at` of a task, project or booking event: the moment it is built, taken once
    the writer holds the record's row and its project's (these rows keep no `updated_at`; see
    `psa_shared.events.tickets`), so the later of two writers sends the later version."""
    return utc_iso(utcnow())


def project_payload(project: Project, revised_at: str, *, old_client_id=None) -> dict:
    return {
        "id": project.id,
        "client_id": project.client_id,
        "old_client_id": old_client_id,
        "name": project.name,
        "board_id": project.board_id,
        "closed": project.closed,
        "revised_at": revised_at,
    }


def task_payload(task: Task, project: Project, revised_at: str) -> dict:
    return {
        "id": task.id,
        "project_id": project.id,
        "client_id": project.client_id,
        "phase_id": task.phase_id,
        "name": task.name,
        "assignee_id": task.assignee_id,
        "priority": task.priority,
        "estimate_minutes": task.estimate_minutes,
        "spent_minutes": task.spent_minutes,
        "done": task.done,
        "due_at": utc_iso(task.due_at) if task.due_at else None,
        "revised_at": revised_at,
    }


def phase_payload(phase: Phase, project: Project, revised_at: str) -> dict:
    return {
        "id": phase.id,
        "project_id": project.id,
        "client_id": project.client_id,
        "name": phase.name,
        "position": phase.position,
        "revised_at": revised_at,
    }


def schedule_payload(entry: ScheduleEntry, client_id, revised_at: str) -> dict:
    """A booking as sent, naming the client it is for (its ticket's, or its task's project's)."""
    return {
        "id": entry.id,
        "member_id": entry.member_id,
        "starts_at": utc_iso(entry.starts_at),
        "minutes": entry.minutes,
        "ticket_id": entry.ticket_id,
        "task_id": entry.task_id,
        "client_id": client_id,
        "revised_at": revised_at,
    }


def visible_projects(principal: Principal):
    return principal.within_grants(Project.select(), Project.client)


def get_project(principal: Principal, project_id, field: str | None = None) -> Project:
    project = Project.get_or_none(Project.id == project_id) if project_id else None
    if project is None or not principal.sees_client(project.client_id):
        if field:
            raise field_error(field, "project not found")
        raise NotFound("project not found")
    return project


def get_task(principal: Principal, task_id, field: str | None = None, *, lock_project=False) -> tuple[Task, Project]:
    """A task and its project, when the caller sees the project's client. `lock_project` holds
    the project's row for the caller's transaction, so its client cannot change under a write
    that copies it (see `task_time.log_task_time`)."""
    row = Task.get_or_none(Task.id == task_id) if task_id else None
    project = _project_of(row, lock_project) if row else None
    if project is None or not principal.sees_client(project.client_id):
        if field:
            raise field_error(field, "task not found")
        raise NotFound("task not found")
    return row, project


def held_task(principal: Principal, task_id) -> tuple[Task, Project]:
    """The project, then the task, locked and read as committed: a move of the project re-sends
    the task, and its spent minutes move with time entries, so an event built from both after
    this is built from them as they are, after whatever committed first."""
    task, project = get_task(principal, task_id, lock_project=True)
    return locked_task(task.id), project


def _project_of(task: Task, locked: bool) -> Project | None:
    query = Project.select().where(Project.id == task.project_id)
    return (db.locked(query) if locked else query).first()


def locked_project(project_id) -> Project:
    """The project's row, held for the caller's transaction (`FOR UPDATE` on PostgreSQL) and read
    as committed once held: its client and every task's event are built after the lock."""
    return db.locked(Project.select().where(Project.id == project_id)).get()


def refuse_closed(project: Project, to_do: str) -> None:
    """409 on a task of a closed project (read locked by the caller, so a close commits before and
    is seen, or waits): it has had its final invoice, and work added after it is work nobody bills."""
    if project.closed:
        message = f"the task's project is closed; reopen it to {to_do}"
        raise Conflict(message, errors={"project_id": [message]})


def locked_task(task_id) -> Task:
    return db.locked(Task.select().where(Task.id == task_id)).get()


def check_board(board_id) -> None:
    if board_id is not None and Board.get_or_none(Board.id == board_id) is None:
        raise field_error("board_id", "board not found")


def check_phase(project: Project, phase_id) -> None:
    if phase_id is not None and Phase.get_or_none((Phase.id == phase_id) & (Phase.project == project.id)) is None:
        raise field_error("phase_id", "phase not found in this project")


def create_project(principal: Principal, client_id, board_id=None, **fields) -> Project:
    with db.proxy.atomic():
        client = get_client(principal, client_id, field="client_id")
        check_board(board_id)
        project = Project.create(client=client.id, board_id=board_id, **fields)
        emit("project.created", project_payload(project, utc_iso(project.created_at)))
    return project


def update_project(principal: Principal, project_id, **changes) -> Project:
    with db.proxy.atomic():
        # locked before anything is compared or sent: a task's or booking's writer locks the
        # project first too, so a move and such an edit take turns and the later sends the later
        # `revised_at` with the client as it is
        project = locked_project(get_project(principal, project_id).id)
        was_for = project.client_id
        if "client_id" in changes:
            changes["client_id"] = get_client(principal, changes["client_id"], field="client_id").id
            if changes["client_id"] != was_for:
                check_holders_see(project, changes["client_id"])  # before anything is written
        if "board_id" in changes:
            check_board(changes["board_id"])
        if not apply_changes(project, changes):
            return project  # nothing changed: no write, no event
        project.save()
        revised_at, moved = revision(), project.client_id != was_for
        emit("project.updated", project_payload(project, revised_at, old_client_id=was_for if moved else None))
        if moved:
            _move_unbilled_time(project)
            _resend_work(project, revised_at)
    return project


def _move_unbilled_time(project: Project) -> None:
    """A project moved to its right client takes its unbilled time along (that client pays it);
    time already on a posted invoice stays with the invoice. Locked: a posting landing meanwhile
    either bills an entry first, and it stays, or finds it moved; an entry logged meanwhile waits
    on the project's row (`task_time.log_task_time`), or is committed and moved here."""
    tasks = Task.select(Task.id).where(Task.project == project.id)
    unbilled = TimeEntry.select().where(TimeEntry.task_id.in_(tasks) & TimeEntry.billed_invoice_id.is_null())
    for entry in db.locked(unbilled):
        entry.client_id, entry.updated_at = project.client_id, clock.now()
        entry.save()
        emit("time_entry.updated", time_entry_payload(entry, project_id=project.id))


def _resend_work(project: Project, revised_at: str) -> None:
    """A project moved to another client re-sends each of its phases (`phase.updated`), tasks
    (`task.updated`) and each booking on them (`schedule.updated`) as it is, with the new client
    and the move's moment: a read model built from events would otherwise keep them at the old
    client. Read after the project's lock, so an edit of a task committed meanwhile is in what is
    sent (a new phase, task or booking locks the project too)."""
    for phase in Phase.select().where(Phase.project == project.id).order_by(Phase.id):
        emit("phase.updated", phase_payload(phase, project, revised_at))
    tasks = list(db.locked(Task.select().where(Task.project == project.id).order_by(Task.id)))
    for task in tasks:
        emit("task.updated", task_payload(task, project, revised_at))
    booked = ScheduleEntry.select().where(ScheduleEntry.task.in_([task.id for task in tasks]))
    for entry in db.locked(booked.order_by(ScheduleEntry.id)) if tasks else ():
        emit("schedule.updated", schedule_payload(entry, project.client_id, revised_at))


def create_phase(principal: Principal, project_id, **fields) -> Phase:
    with db.proxy.atomic():
        project = locked_project(get_project(principal, project_id).id)  # a move re-sends it, or went first
        phase = Phase.create(project=project.id, **fields)
        emit("phase.created", phase_payload(phase, project, revision()))  # phases keep no created_at
    return phase


def create_task(principal: Principal, project_id, phase_id=None, assignee_id=None, **fields) -> Task:
    with db.proxy.atomic():
        project = locked_project(get_project(principal, project_id).id)  # a move re-sends it, or went first
        check_phase(project, phase_id)
        if assignee_id is not None:
            check_assignee(assignee_id, project.client_id)
        task = Task.create(project=project.id, phase=phase_id, assignee=assignee_id, **fields)
        emit("task.created", task_payload(task, project, utc_iso(task.created_at)))
    return task


def update_task(principal: Principal, task_id, **changes) -> Task:
    with db.proxy.atomic():
        task, project = held_task(principal, task_id)
        if "phase_id" in changes:
            check_phase(project, changes["phase_id"])
        if changes.get("assignee_id") not in (None, task.assignee_id):
            check_assignee(changes["assignee_id"], project.client_id)
        elif task.done and changes.get("done") is False and (assignee := changes.get("assignee_id", task.assignee_id)):
            # a done task travels with its project to another client as history (`holders`);
            # reopened, it is work again, in the queue of an assignee who may no longer see the client
            check_granted(assignee, project.client_id, "done")
        if not apply_changes(task, changes):
            return task  # nothing changed: no write, no event
        task.save()
        emit("task.updated", task_payload(task, project, revision()))
    return task
