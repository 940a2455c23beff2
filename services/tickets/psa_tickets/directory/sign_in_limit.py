"""The limit on failed password sign-ins: guessing at an admin, who can reveal every client's
passwords, stops after MAX_FAILURES per tenant and email within WINDOW (docs/foundation.md)."""

import datetime as dt
import math

import peewee

from psa_shared.errors import TooManyRequests
from psa_shared.tenancy import current_tenant

from ..servicedesk import clock
from .models import SignInFailure, Tenant

MAX_FAILURES = 10
WINDOW = dt.timedelta(minutes=15)  # counted from the window's first failure


def count_attempt(email: str) -> None:
    """Count this attempt as failed before its password is checked (success forgives it), in one
    statement that adds only below the limit: parallel guesses each take a place, so no more than
    MAX_FAILURES are ever checked in a window. Past it, raises the 429 and counts nothing, so
    knocking on does not prolong the lockout."""
    if not Tenant.select().where(Tenant.id == current_tenant()).exists():
        return  # nobody to protect, and rows of a made-up tenant would never be pruned
    now = clock.now()
    failures, since = SignInFailure.failures, SignInFailure.since
    expired = since <= now - WINDOW
    counted = (
        SignInFailure.insert(email=email, failures=1, since=now)
        .on_conflict(
            conflict_target=[SignInFailure.tenant_id, SignInFailure.email],
            update={
                failures: peewee.Case(None, [(expired, 1)], failures + 1),
                since: peewee.Case(None, [(expired, since.to_value(now))], since),
            },
            where=expired | (failures < MAX_FAILURES),
        )
        .returning(failures)
        .tuples()
        .execute()
    )
    if not list(counted):
        raise TooManyRequests(
            "too many failed sign-ins for this account; try again later",
            headers={"Retry-After": str(_seconds_left(email, now))},
        )


def _seconds_left(email: str, now: dt.datetime) -> int:
    row = SignInFailure.get_or_none(SignInFailure.email == email)
    ends = row.since + WINDOW if row else now  # forgiven meanwhile: try now
    return max(1, math.ceil((ends - now).total_seconds()))


def prune() -> None:
    """Drop the tenant's windows that have passed (emails nobody tries again)."""
    SignInFailure.delete().where(SignInFailure.since <= clock.now() - WINDOW).execute()


def forgive(email: str) -> None:
    """A sign-in that got in clears the account's failures."""
    SignInFailure.delete().where(SignInFailure.email == email).execute()
