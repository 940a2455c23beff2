"""Reveal rate limit per member, in a window every process shares: it is counted from the audit
table itself, so two servers cannot both let the 61st through.

The window is counted before the tenant's audit head lock, along with the chain length it was
counted at; under the lock, the reveal's own INSERT counts the member's reveals appended after
that length, and inserts nothing if they leave no room under the limit. Rows are appended, and
become visible, in `seq` order, one at a time under the lock, so the two counts neither miss nor
repeat a row, and the lock is held for a few index entries, not the whole window.
"""

from __future__ import annotations

import datetime as dt

import peewee

from psa_shared.outbox import utcnow
from psa_shared.statements import Slot, Statement
from psa_shared.tenancy import current_tenant

from .audit import AuditHead, AuditRow, append_from_head

WINDOW = dt.timedelta(hours=1)


def _allowed_reveals(member_id):
    return AuditRow.select(peewee.fn.COUNT(peewee.SQL("*"))).where(
        (AuditRow.actor_id == member_id) & (AuditRow.action == "reveal") & (AuditRow.outcome == "allowed")
    )


def window_columns(member_id, since: dt.datetime) -> tuple:
    """`recent` (the member's reveals since `since`, the window's start) and `counted_at` (the chain
    length then), as columns of one statement, so both come from the same snapshot. Read before
    the head lock."""
    chain_length = AuditHead.select(AuditHead.count).where(AuditHead.id == current_tenant())
    return (
        _allowed_reveals(member_id).where(AuditRow.at > since).alias("recent"),
        chain_length.alias("counted_at"),
    )


def _room_left():
    """The member's reveals among chain rows `after_seq`+1 .. the head's count are fewer than
    `room` (the limit less the window counted before the lock).

    Read by the reveal's own INSERT, the first statement to begin after the head lock is granted:
    on PostgreSQL, the statement that waited for the lock sees rows committed meanwhile only in
    the locked row itself.
    """
    appended = _allowed_reveals(Slot("member")).where(
        (AuditRow.seq > Slot("after_seq")) & (AuditRow.seq <= AuditHead.count)
    )
    return peewee.Expression(appended, "<", Slot("room"))


# The reveal's audit INSERT: none when the reveals appended since the window was read fill it.
APPEND_WITHIN_LIMIT = Statement(lambda: append_from_head(_room_left(), lock=False))


def reveals_since(member_id, since: dt.datetime) -> int:
    return _allowed_reveals(member_id).where(AuditRow.at > since).scalar()


def burst_already_reported(member_id, now: dt.datetime | None = None) -> bool:
    """One `vault.reveal_burst` per member and window: an earlier refusal in the window reported it."""
    since = (now or utcnow()) - WINDOW
    return (
        AuditRow.select()
        .where(
            (AuditRow.actor_id == member_id)
            & (AuditRow.action == "reveal")
            & (AuditRow.detail == "rate_limited")
            & (AuditRow.at > since)
        )
        .exists()
    )
