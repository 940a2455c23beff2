"""Backlog: hours in the pipe against the weekly capacity of active members.

Pipe = sum over open tickets (status kind not closed) and open tasks (not done, project not
closed) of the estimate still unspent, never below 0. Spent minutes are kept on the ticket and
task rows on every time-entry write, so this is a handful of grouped SUMs and never reads a time
entry. Only the clients the caller sees count.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from peewee import Case, fn

from psa_shared.auth import Principal

from ..directory.models import Member
from ..projects.models import Project, Task
from ..servicedesk.models import OPEN_KINDS, Board, Ticket


def remaining(model):
    """max(estimate - spent, 0) as SQL; a missing estimate counts 0."""
    return Case(None, [(model.estimate_minutes > model.spent_minutes, model.estimate_minutes - model.spent_minutes)], 0)


def weeks(pipe: int, capacity: int) -> str | None:
    if not capacity:
        return None
    return str((Decimal(pipe) / Decimal(capacity)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _ticket_sums(principal: Principal):
    """Grouped by status kind too, so the sums stream through the covering index in its order."""
    pipe = fn.SUM(remaining(Ticket)).alias("pipe")
    base = Ticket.select(Ticket.assignee, Ticket.board, pipe).where(Ticket.status_kind.in_(OPEN_KINDS))
    grouped = principal.within_grants(base, Ticket.client).group_by(Ticket.status_kind, Ticket.assignee, Ticket.board)
    return grouped.tuples()


def _task_sums(principal: Principal):
    pipe = fn.SUM(remaining(Task)).alias("pipe")
    base = (
        Task.select(Task.assignee, Project.board_id, pipe)
        .join(Project, on=(Task.project == Project.id))
        .where(~Task.done, ~Project.closed)
    )
    return principal.within_grants(base, Project.client).group_by(Task.assignee, Project.board_id).tuples()


def _key(value):
    return None if value is None else str(value)


def backlog(principal: Principal) -> dict:
    by_member: dict = defaultdict(int)
    by_board: dict = defaultdict(int)
    for assignee, board, pipe in list(_ticket_sums(principal)) + list(_task_sums(principal)):
        by_member[_key(assignee)] += int(pipe or 0)
        by_board[_key(board)] += int(pipe or 0)
    active = {str(m.id): m for m in Member.select().where(Member.active)}
    others = [k for k in by_member if k is not None and k not in active]
    named = {str(m.id): m for m in Member.select().where(Member.id.in_(others))} if others else {}
    capacity = sum(m.weekly_capacity_minutes for m in active.values())
    members = []
    for member_id in sorted(set(active) | set(named), key=lambda k: ((active.get(k) or named[k]).name, k)):
        member = active.get(member_id) or named[member_id]
        own = member.weekly_capacity_minutes if member_id in active else 0
        members.append(_member_row(member_id, member.name, by_member.get(member_id, 0), own))
    members.append(_member_row(None, None, by_member.get(None, 0), 0))
    board_names = {str(b.id): b.name for b in Board.select(Board.id, Board.name)}
    boards = [
        {"board_id": k, "name": board_names.get(k) if k else None, "pipe_minutes": v}
        for k, v in sorted(by_board.items(), key=lambda kv: (kv[0] is None, board_names.get(kv[0] or "", ""), kv[0]))
    ]
    pipe = sum(by_member.values())
    return {
        "pipe_minutes": pipe,
        "capacity_minutes_per_week": capacity,
        "backlog_weeks": weeks(pipe, capacity),
        "by_member": members,
        "by_board": boards,
    }


def _member_row(member_id, name, pipe: int, capacity: int) -> dict:
    return {
        "member_id": member_id,
        "name": name,
        "pipe_minutes": pipe,
        "capacity_minutes_per_week": capacity,
        "backlog_weeks": weeks(pipe, capacity),
    }
