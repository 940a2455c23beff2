"""Schedule entries: a member booked for a while on one ticket or one task.

An entry is visible when the caller sees the client of the ticket or task it is booked on.
"""

from __future__ import annotations

import datetime as dt

from peewee import JOIN

from psa_shared.auth import Principal
from psa_shared.errors import NotFound, field_error
from psa_shared.events import utc_iso
from psa_shared.records import apply_changes

from ..database import db, emit
from ..servicedesk import clock
from ..servicedesk.models import Ticket
from ..servicedesk.tickets import check_granted, member_of_tenant
from .holders import not_over
from .models import Project, ScheduleEntry, Task
from .projects import get_task, locked_project, refuse_closed, revision, schedule_payload


def visible_entries(principal: Principal):
    query = (
        ScheduleEntry.select(ScheduleEntry)
        .join(Ticket, JOIN.LEFT_OUTER, on=(ScheduleEntry.ticket == Ticket.id))
        .switch(ScheduleEntry)
        .join(Task, JOIN.LEFT_OUTER, on=(ScheduleEntry.task == Task.id))
        .join(Project, JOIN.LEFT_OUTER, on=(Task.project == Project.id))
    )
    return principal.within_grants(query, Ticket.client, Project.client)  # booked on a ticket or a task


def get_entry(principal: Principal, entry_id) -> ScheduleEntry:
    entry = visible_entries(principal).where(ScheduleEntry.id == entry_id).first()
    if entry is None:
        raise NotFound("schedule entry not found")
    return entry


def _check_target(principal: Principal, ticket_id, task_id, *, onto=False):
    """Exactly one of ticket_id / task_id, in this tenant and within the caller's grants; returns
    the client it is for. A booking made or moved `onto` a task of a closed project is refused
    (409), as time on it is: a visit after the final invoice is work nobody bills."""
    if (ticket_id is None) == (task_id is None):
        raise field_error("ticket_id", "give either ticket_id or task_id")
    if ticket_id is not None:
        ticket = Ticket.get_or_none(Ticket.id == ticket_id)
        if ticket is None or not principal.sees_client(ticket.client_id):
            raise field_error("ticket_id", "ticket not found")
        return ticket.client_id
    # the project held, so a move to another client commits wholly before (its client is read
    # here) or after (the move re-sends this booking)
    project = get_task(principal, task_id, field="task_id", lock_project=True)[1]
    if onto:
        refuse_closed(project, "book work on its tasks")
    return project.client_id


def _client_of(entry: ScheduleEntry):
    """The client the booking is for, as committed (its project locked by the caller)."""
    if entry.ticket_id is not None:
        return Ticket.select(Ticket.client_id).where(Ticket.id == entry.ticket_id).scalar()
    query = Project.select(Project.client_id).join(Task, on=(Task.project == Project.id))
    return query.where(Task.id == entry.task_id).scalar()


def _lock_booked(entry_id, *task_ids) -> ScheduleEntry:
    """The projects of the tasks a booking is on (or moves to), in one order, then the booking,
    held and read as committed: a project's move locks the project first too, then re-sends the
    bookings on its tasks. One another request deleted meanwhile is not found, as it would be a
    moment later (until 2026-11-28 a 500 on PostgreSQL)."""
    tasks = [task_id for task_id in task_ids if task_id is not None]
    projects = Task.select(Task.project_id).where(Task.id.in_(tasks)) if tasks else ()
    for project_id in sorted({str(task.project_id) for task in projects}):
        locked_project(project_id)
    entry = db.locked(ScheduleEntry.select().where(ScheduleEntry.id == entry_id)).first()
    if entry is None:
        raise NotFound("schedule entry not found")
    return entry


def _bookable(member_id):
    """A member of the tenant still with the MSP: a booking of a leaver is work nobody turns up
    for, and the availability report (active members only) would never show it."""
    member = member_of_tenant(member_id, "member_id")
    if not member.active:
        raise field_error("member_id", "member is deactivated")
    return member


def _check_ends(starts_at: dt.datetime, minutes: int, field: str = "starts_at") -> None:
    """A booking must end by the last moment a date holds (9999-12-31T23:59:59Z): one ending later
    was stored, and then every reader adding its minutes to its start failed (a 500 on moving its
    project, until 2026-11-27)."""
    if dt.datetime.max - starts_at < dt.timedelta(minutes=minutes):
        raise field_error(field, "the booking would end after 9999-12-31T23:59:59Z")


def create_entry(principal: Principal, member_id, ticket_id=None, task_id=None, **fields) -> ScheduleEntry:
    _check_ends(fields["starts_at"], fields["minutes"])
    with db.proxy.atomic():
        _bookable(member_id)
        client_id = _check_target(principal, ticket_id, task_id, onto=True)
        check_granted(member_id, client_id, "member_id")
        entry = ScheduleEntry.create(member=member_id, ticket=ticket_id, task=task_id, **fields)
        emit("schedule.created", schedule_payload(entry, client_id, utc_iso(entry.created_at)))
    return entry


def _check_changes(principal: Principal, entry: ScheduleEntry, changes: dict) -> dict:
    """The PATCH's member and target checked; returns the changes with the target given in full."""
    member_id, client_id = changes.get("member_id", entry.member_id), None
    if member_id != entry.member_id:
        _bookable(member_id)  # a leaver's own booking may still be moved or handed over
    if "ticket_id" in changes or "task_id" in changes:
        changes = {"ticket_id": None, "task_id": None, **changes}  # the one given replaces the other
        # only a move onto another task is refused on a closed project: a booking already there
        # may still be resized, handed on or deleted
        onto = changes["task_id"] not in (None, entry.task_id)
        client_id = _check_target(principal, changes["ticket_id"], changes["task_id"], onto=onto)
    target = (changes.get("ticket_id", entry.ticket_id), changes.get("task_id", entry.task_id))
    if (member_id, *target) != (entry.member_id, entry.ticket_id, entry.task_id):
        # whoever ends up booked must see the client; a booking its member's grant was withdrawn
        # from may still be moved or resized, as a leaver's may
        check_granted(member_id, client_id or _check_target(principal, *target), "member_id")
    elif _reopened(entry, changes):
        # a visit that is over travels with its project as history (`holders`); moved ahead, it is
        # one to keep again, by a member who may no longer see the client
        field = "starts_at" if "starts_at" in changes else "minutes"
        check_granted(member_id, _check_target(principal, *target), field)
    return changes


def _reopened(entry: ScheduleEntry, changes: dict) -> bool:
    """Whether the PATCH moves a booking that is over to one under way or to come."""
    now = clock.now()
    after = (changes.get("starts_at", entry.starts_at), changes.get("minutes", entry.minutes))
    return not not_over(entry.starts_at, entry.minutes, now) and not_over(*after, now)


def update_entry(principal: Principal, entry_id, **changes) -> ScheduleEntry:
    with db.proxy.atomic():
        entry = get_entry(principal, entry_id)
        entry = _lock_booked(entry.id, entry.task_id, changes.get("task_id"))
        changes = _check_changes(principal, entry, changes)
        field = "starts_at" if "starts_at" in changes else "minutes"  # what this PATCH got wrong
        _check_ends(changes.get("starts_at", entry.starts_at), changes.get("minutes", entry.minutes), field)
        if not apply_changes(entry, changes):
            return entry  # nothing changed: no write, no event
        entry.save()
        emit("schedule.updated", schedule_payload(entry, _client_of(entry), revision()))
    return entry


def delete_entry(principal: Principal, entry_id) -> None:
    with db.proxy.atomic():
        entry = get_entry(principal, entry_id)
        entry = _lock_booked(entry.id, entry.task_id)
        ScheduleEntry.delete().where(ScheduleEntry.id == entry.id).execute()
        emit("schedule.deleted", schedule_payload(entry, _client_of(entry), revision()))
