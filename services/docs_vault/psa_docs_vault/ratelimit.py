"""Reveal rate limit per member, in a window every process shares: it is counted from the audit
table itself, so two servers cannot both let the 61st through. Attachment downloads share the
reveals' budget (`LIMITED`): a `.key` or `.pfx` is a secret too, and two budgets would let a
member take twice the limit's worth of secrets an hour.

The window is counted before the tenant's audit head lock, along with the chain length it was
counted at; under the lock, the reveal's own INSERT counts the member's reveals appended after
that length, and inserts nothing if they leave no room under the limit. Rows are appended, and
become visible, in `seq` order, one at a time under the lock, so the two counts neither miss nor
repeat a row, and the lock is held for a few index entries, not the whole window.

The same INSERT appends only while the member is still active in the vault's projection: the
deactivation's consumer holds the head too while it lists what the leaver saw (`offboarding`), so
a reveal under way when it lands is either in that list or refused, never taken and unlisted.
"""

from __future__ import annotations

import datetime as dt
from typing import NoReturn

import peewee

from psa_shared.errors import TooManyRequests, Unauthorized
from psa_shared.outbox import utcnow
from psa_shared.statements import Slot, Statement
from psa_shared.tenancy import current_tenant

from . import audit
from .audit import AuditHead, AuditRow, append_from_head
from .database import db, emit
from .projection import MemberRecord

WINDOW = dt.timedelta(hours=1)
LIMITED = ("reveal", "download")  # the actions that count against the one per-member budget


def _allowed_reveals(member_id):
    return AuditRow.select(peewee.fn.COUNT(peewee.SQL("*"))).where(
        (AuditRow.actor_id == member_id) & AuditRow.action.in_(LIMITED) & (AuditRow.outcome == "allowed")
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


def _still_active():
    """The member is active in the projection as the INSERT reads it, after the head lock."""
    return peewee.fn.EXISTS(
        MemberRecord.select(MemberRecord.id).where((MemberRecord.id == Slot("member")) & MemberRecord.active)
    )


# The reveal's audit INSERT: none when the reveals appended since the window was read fill it, or
# the member was deactivated since the request's token was checked.
APPEND_WITHIN_LIMIT = Statement(lambda: append_from_head(_room_left() & _still_active(), lock=False))


def still_active(member_id) -> bool:
    return MemberRecord.select().where((MemberRecord.id == member_id) & MemberRecord.active).exists()


def refuse_leaver(ctx: audit.Context, action: str, **values) -> NoReturn:
    """Deactivated while the request was under way (its token was checked before): a denied row,
    and the 401 the next request gets anyway. Until 2026-11-28 such a reveal was taken after the
    deactivation had listed what the leaver saw, and was in no rotation ticket."""
    audit.denied(ctx, action, "deactivated", **values)
    raise Unauthorized("token no longer valid for this member")


def reveals_since(member_id, since: dt.datetime) -> int:
    return _allowed_reveals(member_id).where(AuditRow.at > since).scalar()


def burst_already_reported(member_id, now: dt.datetime | None = None) -> bool:
    """One `vault.reveal_burst` per member and window: an earlier refusal in the window reported it."""
    since = (now or utcnow()) - WINDOW
    return (
        AuditRow.select()
        .where(
            (AuditRow.actor_id == member_id)
            & AuditRow.action.in_(LIMITED)
            & (AuditRow.detail == "rate_limited")
            & (AuditRow.at > since)
        )
        .exists()
    )


def admit(ctx: audit.Context, member_id, window, limit: int, now: dt.datetime, action: str, **values) -> None:
    """Append the allowed `action` row if the member's window (`window.recent`, counted at chain
    length `window.counted_at`, read with `window_columns`) leaves room under `limit`; else a
    denied row and a 429.

    The tenant's audit head is held only for the append, whose INSERT also counts the member's
    rows appended meanwhile, since every reveal and download of a tenant queues on it.
    """
    count = window.recent
    if count < limit:
        if window.counted_at is None:
            audit.start_chain()  # the tenant's first audit row: the INSERT reads the head
        row = audit.row_values(ctx, action, "allowed", **values)
        with db.atomic_writes():  # on PostgreSQL one message: the head is held only while the database runs it
            audit.lock_head()
            appended = APPEND_WITHIN_LIMIT.run_returning(
                member=member_id, after_seq=window.counted_at or 0, room=limit - count, **row
            )
        if appended:
            return
        if not still_active(member_id):
            refuse_leaver(ctx, action, **values)
        count = reveals_since(member_id, now - WINDOW)  # others appended meanwhile
    _refuse(ctx, member_id, count, limit, now, action, **values)


def _refuse(ctx: audit.Context, member_id, count: int, limit: int, now, action: str, **values) -> NoReturn:
    """A denied row keeping what the request named, its reason too (until 2026-11-28 a rate-limited
    reveal's row dropped it); first in the window, a `vault.reveal_burst` event. Raises the 429."""
    with db.proxy.atomic():
        audit.lock_head()  # first: refusals racing each other report one burst
        first = not burst_already_reported(member_id, now)
        audit.append(ctx, action, "denied", detail="rate_limited", **values)
        if first:
            window = int(WINDOW.total_seconds())
            emit(
                "vault.reveal_burst",
                {"member_id": member_id, "count": count + 1, "limit": limit, "window_seconds": window},
            )
    raise TooManyRequests(
        f"reveal limit of {limit} per hour reached", headers={"Retry-After": str(_retry_after(member_id, now))}
    )


def _retry_after(member_id, now: dt.datetime) -> int:
    oldest = (
        AuditRow.select(AuditRow.at)
        .where(
            (AuditRow.actor_id == member_id)
            & AuditRow.action.in_(LIMITED)
            & (AuditRow.outcome == "allowed")
            & (AuditRow.at > now - WINDOW)
        )
        .order_by(AuditRow.at)
        .first()
    )
    if oldest is None:
        return 1
    return max(1, int((oldest.at + WINDOW - now).total_seconds()) + 1)
