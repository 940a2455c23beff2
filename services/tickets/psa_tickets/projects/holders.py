"""Who holds a project's work: the assignees of its open tasks and the members booked on its tasks
from now on. Each must see the client the project moves to, or the move is refused (422)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from psa_shared.auth import Principal
from psa_shared.errors import field_error

from ..directory.models import Member
from ..servicedesk import clock
from ..servicedesk.tickets import member_of_tenant
from .models import LONGEST_BOOKING_MINUTES, Project, ScheduleEntry, Task


def check_holders_see(project: Project, client_id) -> None:
    """Refuse moving `project` to `client_id` while someone who may not see that client holds its
    work: moved, it would sit in a queue they cannot open (the rule `check_granted` applies to a new
    assignee or booking). The caller holds the project's row, and a task's or booking's writer
    locks it first too, so what is read here is what the move takes along."""
    tasks, bookings = _work_held(project)
    holders = Member.select(Member.id, Member.name).where(Member.id.in_(list({*tasks, *bookings})))
    blocking = [
        member
        for member in holders.order_by(Member.name, Member.id)
        if not Principal(member_of_tenant(member.id, "client_id")).sees_client(client_id)
    ]
    if blocking:
        first = blocking[0]
        counts = ((tasks[first.id], "open task"), (bookings[first.id], "booking"))
        held = " and ".join(_count(n, what) for n, what in counts if n)
        others = f" (and {_count(len(blocking) - 1, 'other member')})" if len(blocking) > 1 else ""
        raise field_error(
            "client_id", f"{first.name} holds {held} of this project and has no grant for that client{others}"
        )


def _work_held(project: Project) -> tuple[Counter, Counter]:
    """Open tasks by assignee, and bookings not yet over by member. A done task is finished work,
    and a booking that has ended is the record of a visit, not one to make: nobody turns up for
    it and no queue shows it, so both travel with the project as history (refusing the move over
    them would have the dispatcher rewrite last month's diary to correct a mistyped client). A
    booking under way still counts: the tech is at the client now."""
    open_tasks = Task.select(Task.assignee_id).where(
        (Task.project == project.id) & (Task.done == False) & Task.assignee.is_null(False)  # noqa: E712
    )
    now = clock.now()
    earliest = now - dt.timedelta(minutes=LONGEST_BOOKING_MINUTES)  # one starting before is over
    booked = (
        ScheduleEntry.select(ScheduleEntry.member_id, ScheduleEntry.starts_at, ScheduleEntry.minutes)
        .join(Task, on=(ScheduleEntry.task == Task.id))
        .where((Task.project == project.id) & (ScheduleEntry.starts_at > earliest))
    )
    to_come = [entry.member_id for entry in booked if not_over(entry.starts_at, entry.minutes, now)]
    return Counter(task.assignee_id for task in open_tasks), Counter(to_come)


def not_over(starts_at: dt.datetime, minutes: int, now: dt.datetime) -> bool:
    """A booking under way or to come. start > now - minutes, not start + minutes > now: a booking
    stored ending past 9999 (refused since 2026-11-27) overflowed the sum and the project's move
    answered 500."""
    return starts_at > now - dt.timedelta(minutes=minutes)


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"
