"""Reveal rate limit per member, in a window every process shares: it is counted from the audit
table itself, under the tenant's audit head lock, so two servers cannot both let the 61st through."""

from __future__ import annotations

import datetime as dt

import peewee

from psa_shared.outbox import utcnow

from .audit import AuditRow

WINDOW = dt.timedelta(hours=1)


def _window(member_id, now: dt.datetime | None):
    since = (now or utcnow()) - WINDOW
    return AuditRow.select(peewee.fn.COUNT(peewee.SQL("*"))).where(
        (AuditRow.actor_id == member_id)
        & (AuditRow.action == "reveal")
        & (AuditRow.outcome == "allowed")
        & (AuditRow.at > since)
    )


def reveals_in_window(member_id, now: dt.datetime | None = None) -> int:
    return _window(member_id, now).scalar()


def window_column(member_id, now: dt.datetime):
    """The same count as a column `recent`, to read along with the audit head lock (one round trip)."""
    return _window(member_id, now).alias("recent")


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
