"""The work queue: every open ticket and not-done task that needs someone, in one ordered list.

Order: priority (P1 first), due time (nulls last), age (oldest first), then id. A ticket's due
time is its next SLA target: the response's while nobody has responded, then the resolution's. Each source is
read with the same keyset condition and limit, and the two sorted runs are merged, so a deep page
costs what the first costs. No index holds that order: the database sorts the open work the filter
leaves for each page (docs/projects-and-reports.md, Pagination at a million tickets).

Work a deactivated member still holds needs someone as much as work nobody holds: it counts as
unassigned, and each assigned item says whether its assignee is still active.
"""

from __future__ import annotations

import datetime as dt
import uuid

from peewee import Case, Tuple, fn

from psa_shared.auth import Principal
from psa_shared.web import cursor_refused, decode_cursor, encode_cursor

from ..directory.models import Member
from ..projects.models import Project, Task
from ..servicedesk import clock, sla
from ..servicedesk.models import OPEN_KINDS, PRIORITIES, Ticket

# stands in for "no due time" where the key compares times; "none" itself sorts by its own flag
# before it, since a due time may be this very moment (a sentinel alone sorted a task due at
# 9999-12-31T23:59:59.999999 among those with none until 2026-11-28, and one due later than
# midnight that day until 2026-11-27)
NEVER = dt.datetime.max


def _after(cursor: str | None):
    if not cursor:
        return None
    values = decode_cursor(cursor)
    try:
        priority, due, created, item_id = values
        if not isinstance(item_id, str):  # uuid.UUID(5) raises AttributeError, not ValueError
            raise TypeError(item_id)
        if priority not in PRIORITIES:  # a NUL byte here was a 500 on PostgreSQL
            raise ValueError(priority)
        return (
            priority,
            dt.datetime.fromisoformat(due) if due else None,
            dt.datetime.fromisoformat(created),
            uuid.UUID(item_id),
        )
    except (TypeError, ValueError):
        raise cursor_refused() from None


def _ordered(query, model, due, after, limit):
    """`due`: the due time's column, or an expression of the model's datetime columns."""
    key = (model.priority, due.is_null(), fn.COALESCE(due, NEVER), model.created_at, model.id)
    if after is not None:
        priority, due_after, created, item_id = after
        stored = model.created_at.db_value  # every due time is a datetime column as created_at is
        after_key = (
            priority,
            due_after is None,
            stored(due_after or NEVER),
            stored(created),
            model.id.db_value(item_id),
        )
        query = query.where(Tuple(*key) > Tuple(*after_key))
    return query.order_by(*key).limit(limit + 1)


# A ticket nobody has answered yet is due first for its response (an hour, say, where the
# resolution has a day): until 2026-11-28 the queue sorted and showed the resolution's due time
# only, and a P2 waiting for its first call sat behind one due for the fix an hour later.
_TICKET_DUE = Case(
    None,
    (
        (
            Ticket.responded_at.is_null()
            & Ticket.respond_due_at.is_null(False)
            & (Ticket.resolve_due_at.is_null() | (Ticket.respond_due_at < Ticket.resolve_due_at)),
            Ticket.respond_due_at,
        ),
    ),
    Ticket.resolve_due_at,
)


def _item(kind: str, row, *, number, summary, client_id, due_at, breached: bool) -> dict:
    return {
        "kind": kind,
        "id": row.id,
        "number": number,
        "summary": summary,
        "client_id": client_id,
        "priority": row.priority,
        "assignee_id": row.assignee_id,
        **({} if row.assignee_id is None else {"assignee_active": not row.assignee_left}),
        "due_at": due_at,
        "breached": breached,
        "created_at": row.created_at,
        "estimate_minutes": row.estimate_minutes,
        "remaining_minutes": None if row.estimate_minutes is None else max(row.estimate_minutes - row.spent_minutes, 0),
    }


def _tickets(principal: Principal, args: dict, after, limit, now) -> list[dict]:
    due = _TICKET_DUE.alias("next_due")  # read back as the database sorted by it, not worked out again
    query = Ticket.select(Ticket, _left(Ticket.assignee), due).where(Ticket.status_kind.in_(OPEN_KINDS))
    query = principal.within_grants(query, Ticket.client)
    rows = _ordered(_assigned(query, Ticket.assignee, args), Ticket, _TICKET_DUE, after, limit)
    return [
        _item(
            "ticket",
            t,
            number=t.number,
            summary=t.summary,
            client_id=t.client_id,
            due_at=Ticket.resolve_due_at.python_value(t.next_due),  # SQLite hands an expression back as text
            breached=any(sla.ticket_breaches(now, t).values()),
        )
        for t in rows
    ]


def _tasks(principal: Principal, args: dict, after, limit, now) -> list[dict]:
    query = (
        Task.select(Task, Project.client, _left(Task.assignee))
        .join(Project, on=(Task.project == Project.id))
        .where(~Task.done, ~Project.closed)
    )
    query = principal.within_grants(query, Project.client)
    rows = _ordered(_assigned(query, Task.assignee, args), Task, Task.due_at, after, limit)
    return [
        _item(
            "task",
            t,
            number=None,
            summary=t.name,
            client_id=t.project.client_id,
            due_at=t.due_at,
            breached=t.due_at is not None and t.due_at < now,
        )
        for t in rows
    ]


def _leavers():
    """This tenant's deactivated members, as a subquery (read once per statement, not per row)."""
    return Member.select(Member.id).where(~Member.active)


def _left(assignee):
    return assignee.in_(_leavers()).alias("assignee_left")


def _assigned(query, assignee, args: dict):
    if args.get("unassigned"):
        return query.where(assignee.is_null() | assignee.in_(_leavers()))
    if args.get("member_id"):
        return query.where(assignee == args["member_id"])
    return query


def _key(item: dict):
    return (item["priority"], item["due_at"] is None, item["due_at"] or NEVER, item["created_at"], item["id"])


def work_page(principal: Principal, args: dict) -> dict:
    limit, after, now = args["limit"], _after(args.get("after")), clock.now()
    merged = sorted(_tickets(principal, args, after, limit, now) + _tasks(principal, args, after, limit, now), key=_key)
    items, more = merged[:limit], len(merged) > limit
    cursor = None
    if more and items:
        last = items[-1]
        due = last["due_at"].isoformat() if last["due_at"] else None
        cursor = encode_cursor([last["priority"], due, last["created_at"].isoformat(), str(last["id"])])
    return {"items": items, "next_cursor": cursor}
