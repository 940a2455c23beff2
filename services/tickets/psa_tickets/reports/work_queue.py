"""The work queue: every open ticket and not-done task that needs someone, in one ordered list.

Order: priority (P1 first), due time (nulls last), age (oldest first), then id. Each source is
read with the same keyset condition and limit, and the two sorted runs are merged, so a deep page
costs what the first costs. No index holds that order: the database sorts the open work the filter
leaves for each page (docs/projects-and-reports.md, Pagination at a million tickets).

Work a deactivated member still holds needs someone as much as work nobody holds: it counts as
unassigned, and each assigned item says whether its assignee is still active.
"""

from __future__ import annotations

import datetime as dt
import uuid

from peewee import Tuple, fn

from psa_shared.auth import Principal
from psa_shared.web import cursor_refused, decode_cursor, encode_cursor

from ..directory.models import Member
from ..projects.models import Project, Task
from ..servicedesk.models import OPEN_KINDS, PRIORITIES, Ticket

# sorts "no due time" after every real one: midnight of 9999-12-31, the sentinel until 2026-11-27,
# put a task due later that day after those with none
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
            dt.datetime.fromisoformat(due) if due else NEVER,
            dt.datetime.fromisoformat(created),
            uuid.UUID(item_id),
        )
    except (TypeError, ValueError):
        raise cursor_refused() from None


def _ordered(query, model, due_field, after, limit):
    due_key = fn.COALESCE(due_field, NEVER)
    if after is not None:
        priority, due, created, item_id = after
        query = query.where(
            Tuple(model.priority, due_key, model.created_at, model.id)
            > Tuple(priority, due_field.db_value(due), model.created_at.db_value(created), model.id.db_value(item_id))
        )
    return query.order_by(model.priority, due_key, model.created_at, model.id).limit(limit + 1)


def _item(kind: str, row, *, number, summary, client_id, due_at) -> dict:
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
        "created_at": row.created_at,
        "estimate_minutes": row.estimate_minutes,
        "remaining_minutes": None if row.estimate_minutes is None else max(row.estimate_minutes - row.spent_minutes, 0),
    }


def _tickets(principal: Principal, args: dict, after, limit) -> list[dict]:
    query = Ticket.select(Ticket, _left(Ticket.assignee)).where(Ticket.status_kind.in_(OPEN_KINDS))
    query = principal.within_grants(query, Ticket.client)
    rows = _ordered(_assigned(query, Ticket.assignee, args), Ticket, Ticket.resolve_due_at, after, limit)
    return [
        _item("ticket", t, number=t.number, summary=t.summary, client_id=t.client_id, due_at=t.resolve_due_at)
        for t in rows
    ]


def _tasks(principal: Principal, args: dict, after, limit) -> list[dict]:
    query = (
        Task.select(Task, Project.client, _left(Task.assignee))
        .join(Project, on=(Task.project == Project.id))
        .where(~Task.done, ~Project.closed)
    )
    query = principal.within_grants(query, Project.client)
    rows = _ordered(_assigned(query, Task.assignee, args), Task, Task.due_at, after, limit)
    return [_item("task", t, number=None, summary=t.name, client_id=t.project.client_id, due_at=t.due_at) for t in rows]


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
    return (item["priority"], item["due_at"] or NEVER, item["created_at"], item["id"])


def work_page(principal: Principal, args: dict) -> dict:
    limit, after = args["limit"], _after(args.get("after"))
    merged = sorted(_tickets(principal, args, after, limit) + _tasks(principal, args, after, limit), key=_key)
    items, more = merged[:limit], len(merged) > limit
    cursor = None
    if more and items:
        last = items[-1]
        due = last["due_at"].isoformat() if last["due_at"] else None
        cursor = encode_cursor([last["priority"], due, last["created_at"].isoformat(), str(last["id"])])
    return {"items": items, "next_cursor": cursor}
