"""The limit on failed password sign-ins: guessing at an admin, who can reveal every client's
passwords, stops after a few failures per tenant and email within a window; one password sprayed
across a tenant's emails stops at the tenant's ceiling, and one client address guessing across
tenants at its own. An address where the email signed in lately is familiar to it: attempts from
there have an account count of their own and skip the tenant's ceiling, so neither lockout, made
from elsewhere, keeps the member out at the office (docs/foundation.md, figures in
`psa_shared.config.Settings`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import ipaddress
import math

import peewee

from psa_shared.config import Settings
from psa_shared.errors import TooManyRequests
from psa_shared.tenancy import current_tenant

from ..database import db
from ..servicedesk import clock
from .models import SignInCeiling, SignInFailure, SignInFamiliar, Tenant

UNKNOWN_TENANT = "tenant:unknown"  # every made-up tenant id counts here: a key an attacker cannot multiply
# A member who signs in from the office at least monthly keeps it familiar; an address given up
# (a move, a new carrier) stops counting apart a month after its last sign-in.
FAMILIAR_FOR = dt.timedelta(days=30)


@dataclasses.dataclass(frozen=True)
class Limits:
    account: int  # failures per tenant and email
    tenant: int  # failures across a tenant's emails
    address: int  # failures from one client address across tenants; 0: no such ceiling
    window: dt.timedelta  # counted from the window's first failure

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        window = dt.timedelta(seconds=settings.sign_in_window_seconds)
        return cls(
            settings.sign_in_account_limit, settings.sign_in_tenant_limit, settings.sign_in_address_limit, window
        )


@dataclasses.dataclass(frozen=True)
class Attempt:
    """A password sign-in as the limits count it: their figures, and its client address's count."""

    limits: Limits
    address: str | None  # `address_key` of the client's address

    @classmethod
    def of(cls, settings: Settings, address: str | None) -> Attempt:
        return cls(Limits.from_settings(settings), address_key(address))


def address_key(address: str | None) -> str | None:
    """The count an address falls under: IPv6 by its /64 (what one host usually gets to pick
    from), none for an address that is not public (loopback, a LAN, a proxy not listed in
    `PSA_TRUSTED_PROXIES`, whose one address would put every client behind it under one count)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    ip = getattr(ip, "ipv4_mapped", None) or ip
    if not ip.is_global:
        return None
    return f"address:{ipaddress.ip_network(f'{ip}/64', strict=False) if ip.version == 6 else ip}"


@dataclasses.dataclass(frozen=True)
class _Count:
    model: type[peewee.Model]  # the tenant's SignInFailure (by email) or SignInCeiling (by key)
    key: str
    limit: int
    refusal: str

    @property
    def column(self) -> peewee.Field:
        return self.model.email if self.model is SignInFailure else self.model.key


class _Refused(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Counted:
    """What `count_attempt` took a place in, for `forgive` to give back if the password is right."""

    email: str
    address: str | None
    counts: list[_Count]


def count_attempt(attempt: Attempt, email: str) -> Counted:
    """Count this attempt as failed before its password is checked (success forgives it): for the
    account, the tenant and the client address, each by one statement that adds only below its
    limit, in one transaction. Parallel guesses each take a place, so no more than a limit's
    figure are ever checked in a window. Past any limit, raises the 429 and counts nothing (the
    transaction rolls back), so knocking on does not prolong the lockout nor use up the others."""
    limits = attempt.limits
    now, counts = clock.now(), _counts(email, limits, attempt.address)
    try:
        with db.proxy.atomic():
            for count in counts:
                if not _take(count, limits.window, now):
                    raise _Refused(count.refusal)
    except _Refused as refused:
        seconds = _seconds_left(counts, limits.window, now)
        raise TooManyRequests(str(refused), headers={"Retry-After": str(seconds)}) from None
    return Counted(email, attempt.address, counts)


def _counts(email: str, limits: Limits, address: str | None) -> list[_Count]:
    """The account's count (apart at a familiar address), the tenant's ceiling (not at a familiar
    address: a spray comes from elsewhere) and the address's ceiling (always: only someone at
    that address adds to it). A made-up tenant id has no account and shares one ceiling."""
    known = Tenant.select().where(Tenant.id == current_tenant()).exists()
    familiar = known and _familiar(email, address)
    account = _Count(SignInFailure, _familiar_key(email, address) if familiar else email, limits.account,
                     _refusal("for this account"))  # fmt: skip
    tenant = f"tenant:{current_tenant()}" if known else UNKNOWN_TENANT
    ceilings = [] if familiar else [_Count(SignInCeiling, tenant, limits.tenant, _refusal("for this MSP"))]
    if address and limits.address:
        ceilings.append(_Count(SignInCeiling, address, limits.address, _refusal("from this address")))
    return ([account] if known else []) + ceilings


def _familiar(email: str, address: str | None) -> bool:
    if address is None:  # not public: who is behind it is not known
        return False
    return (
        SignInFamiliar.select()
        .where(
            (SignInFamiliar.email == email)
            & (SignInFamiliar.address == address)
            & (SignInFamiliar.signed_in_at > clock.now() - FAMILIAR_FOR)
        )
        .exists()
    )


def _familiar_key(email: str, address: str) -> str:
    """The account's count at one familiar address, in the same table as its count elsewhere; a
    digest, as an email and an address together may pass the column's 254 characters."""
    return "familiar:" + hashlib.sha256(f"{email} {address}".encode()).hexdigest()


def _refusal(where: str) -> str:
    return f"too many failed sign-ins {where}; try again later"


def _take(count: _Count, window: dt.timedelta, now: dt.datetime) -> bool:
    """Add one failure below the limit, or start a new window over an expired one or one whose
    failures were all taken back (its start is then no failure's)."""
    model = count.model
    failures, since = model.failures, model.since
    expired = (since <= now - window) | (failures < 1)
    target = [model.tenant_id, model.email] if model is SignInFailure else [model.key]
    counted = (
        model.insert({count.column: count.key, failures: 1, since: now})
        .on_conflict(
            conflict_target=target,
            update={
                failures: peewee.Case(None, [(expired, 1)], failures + 1),
                since: peewee.Case(None, [(expired, since.to_value(now))], since),
            },
            where=expired | (failures < count.limit),
        )
        .returning(failures)
        .tuples()
        .execute()
    )
    return bool(list(counted))


def _seconds_left(counts: list[_Count], window: dt.timedelta, now: dt.datetime) -> int:
    """Until the last of the full counts' windows ends (1 if they were forgiven meanwhile)."""
    ends = [now]
    for count in counts:
        row = count.model.select(count.model.failures, count.model.since).where(count.column == count.key).first()
        if row is not None and row.failures >= count.limit and row.since > now - window:
            ends.append(row.since + window)
    return max(1, math.ceil((max(ends) - now).total_seconds()))


def prune(attempt: Attempt) -> None:
    """Drop the windows that have passed: the tenant's emails and every ceiling nobody tries again;
    and the tenant's addresses nobody signed in from for a month."""
    now = clock.now()
    SignInFailure.delete().where(SignInFailure.since <= now - attempt.limits.window).execute()
    SignInCeiling.delete().where(SignInCeiling.since <= now - attempt.limits.window).execute()
    SignInFamiliar.delete().where(SignInFamiliar.signed_in_at <= now - FAMILIAR_FOR).execute()


def forget_addresses(email: str) -> None:
    """No address is familiar to the email any more: its password changed (after a compromise,
    the intruder's address must not keep counting apart) or it names someone else from now on."""
    SignInFamiliar.delete().where(SignInFamiliar.email == email).execute()


def forgive(counted: Counted) -> None:
    """A sign-in that got in clears its account's count (the one it was counted on: a member
    signing in at the office does not wipe the guesses made at her from elsewhere), takes its own
    place back from the ceilings (only its own: one success must not wipe a spray), and makes its
    public address familiar to the email."""
    account, *ceilings = counted.counts
    SignInFailure.delete().where(SignInFailure.email == account.key).execute()
    taken = SignInCeiling.key.in_([count.key for count in ceilings]) & (SignInCeiling.failures > 0)
    SignInCeiling.update(failures=SignInCeiling.failures - 1).where(taken).execute()
    if counted.address is not None:
        SignInFamiliar.insert(email=counted.email, address=counted.address, signed_in_at=clock.now()).on_conflict(
            conflict_target=[SignInFamiliar.tenant_id, SignInFamiliar.email, SignInFamiliar.address],
            update={SignInFamiliar.signed_in_at: clock.now()},
        ).execute()
