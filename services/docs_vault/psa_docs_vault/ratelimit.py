"""Reveal rate limit per member, in a window every process shares: it is counted from the audit
table itself, so two servers cannot both let the 61st through.

The window is counted before the tenant's audit head lock, along with the chain length it was
counted at; once the lock is held, the member's reveals appended after that length are added.
Rows are appended (and become visible) in `seq` order, one at a time under the lock, so the two
counts neither miss nor repeat a row, and the lock is held for a few index entries, not the window.
"""

from __future__ import annotations

import datetime as dt

import peewee

from psa_shared.outbox import utcnow
from psa_shared.tenancy import current_tenant

from .audit import AuditHead, AuditRow
from .database import db

WINDOW = dt.timedelta(hours=1)


def _allowed_reveals(member_id):
    return AuditRow.select(peewee.fn.COUNT(peewee.SQL("*"))).where(
        (AuditRow.actor_id == member_id) & (AuditRow.action == "reveal") & (AuditRow.outcome == "allowed")
    )


def window_columns(member_id, now: dt.datetime) -> tuple:
    """`recent` (the member's reveals in the window) and `counted_at` (the chain length then), as
    columns of one statement, so both come from the same snapshot. Read before the head lock."""
    chain_length = AuditHead.select(AuditHead.count).where(AuditHead.id == current_tenant())
    return (
        _allowed_reveals(member_id).where(AuditRow.at > now - WINDOW).alias("recent"),
        chain_length.alias("counted_at"),
    )


def appended_statement(member_id, counted_at: int) -> tuple[str, list]:
    """The count of the member's reveals appended after chain length `counted_at`, compiled
    before the head lock is taken (the lock is held while it runs, not while SQL is built)."""
    return _allowed_reveals(member_id).where(AuditRow.seq > counted_at).sql()


def appended_since(statement: tuple[str, list], counted_at: int, chain_length: int) -> int:
    """Run `appended_statement` once the head lock is held (skipped if the chain did not move).

    It must be a statement of its own: on PostgreSQL, one that began before the lock was granted
    (even the one that waited for it) sees the rows committed meanwhile only in the locked row.
    """
    if chain_length == counted_at:
        return 0
    return db.proxy.execute_sql(*statement).fetchone()[0]


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
