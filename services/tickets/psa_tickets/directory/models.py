"""Directory tables: tenants, members, client grants, clients, contacts, API keys, counters, and
failed sign-ins."""

import secrets
from decimal import Decimal

import peewee

from psa_shared.ids import new_id
from psa_shared.outbox import utcnow
from psa_shared.statements import Slot, Statement

from ..database import GlobalModel, Model
from .snapshot import Generation, directory_changed  # noqa: F401  (writers of the rows it covers call it)


def new_stamp() -> str:
    return secrets.token_hex(16)


class Tenant(GlobalModel):
    """An MSP. Not tenant-scoped itself: it is the scope."""

    id = peewee.UUIDField(primary_key=True, default=new_id)
    name = peewee.CharField(max_length=200)
    time_zone = peewee.CharField(max_length=64, default="UTC")
    created_at = peewee.DateTimeField(default=utcnow)


class Counter(Model):
    """Per-tenant sequences (client numbers, ticket numbers): people read numbers, paths take ids."""

    name = peewee.CharField(max_length=40)
    value = peewee.BigIntegerField(default=0)

    class Meta:
        indexes = ((("tenant_id", "name"), True),)


class Member(Model):
    email = peewee.CharField(max_length=254)
    name = peewee.CharField(max_length=200)
    role = peewee.CharField(max_length=20)
    password_hash = peewee.CharField(max_length=200, null=True)
    weekly_capacity_minutes = peewee.IntegerField(default=40 * 60)
    active = peewee.BooleanField(default=True)
    all_clients = peewee.BooleanField(default=False)
    stamp = peewee.CharField(max_length=32, default=new_stamp)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("tenant_id", "email"), True),)

    @property
    def weekly_capacity_hours(self) -> Decimal:
        return (Decimal(self.weekly_capacity_minutes) / 60).quantize(Decimal("0.01"))


class Client(Model):
    number = peewee.IntegerField()
    name = peewee.CharField(max_length=200)
    phone = peewee.CharField(max_length=50, null=True)
    website = peewee.CharField(max_length=200, null=True)
    notes = peewee.TextField(null=True)
    active = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("tenant_id", "number"), True), (("tenant_id", "name"), False))


class ClientGrant(Model):
    member = peewee.ForeignKeyField(Member, on_delete="CASCADE")
    client = peewee.ForeignKeyField(Client, on_delete="CASCADE")

    class Meta:
        indexes = ((("tenant_id", "member", "client"), True),)


class Contact(Model):
    client = peewee.ForeignKeyField(Client)
    name = peewee.CharField(max_length=200)
    email = peewee.CharField(max_length=254, null=True)
    phone = peewee.CharField(max_length=50, null=True)
    title = peewee.CharField(max_length=100, null=True)
    active = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("tenant_id", "client", "name"), False),)


class ApiKey(Model):
    """An integration's key: only its SHA-256 is kept (the key is 256 random bits, so no KDF needed)."""

    member = peewee.ForeignKeyField(Member)
    name = peewee.CharField(max_length=100)
    secret_hash = peewee.CharField(max_length=64, unique=True)
    scopes = peewee.TextField(null=True)  # space-separated permissions; null = the member's role
    created_at = peewee.DateTimeField(default=utcnow)
    last_used_at = peewee.DateTimeField(null=True)
    revoked_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = ((("tenant_id", "member"), False),)


class SignInFailure(Model):
    """An email's failed password sign-ins in its current window (directory.sign_in_limit): one
    row per tenant and email, counted up in place so attempts at once all count."""

    email = peewee.CharField(max_length=254)
    failures = peewee.IntegerField()
    since = peewee.DateTimeField()  # the window's first failure

    class Meta:
        indexes = ((("tenant_id", "email"), True),)


class SignInFamiliar(Model):
    """A public client address where an email signed in (directory.sign_in_limit): for 30 days
    after, that email's attempts from there count apart, so a lockout made from elsewhere does
    not reach the member at the office."""

    email = peewee.CharField(max_length=254)
    address = peewee.CharField(max_length=80)  # `sign_in_limit.address_key`
    signed_in_at = peewee.DateTimeField()  # the last sign-in from there; pruned 30 days on

    class Meta:
        indexes = ((("tenant_id", "email", "address"), True),)


class SignInCeiling(GlobalModel):
    """Failed password sign-ins above one account in their current window (directory.sign_in_limit):
    one row per tenant (made-up tenant ids share one) and per client address, across tenants. Not
    tenant-scoped: an address's count spans tenants, and a made-up tenant has no scope to hold it."""

    key = peewee.CharField(max_length=80, primary_key=True)  # "tenant:<id>", "tenant:unknown", "address:<ip>"
    failures = peewee.IntegerField()
    since = peewee.DateTimeField(index=True)  # the window's first failure; pruned by it


_BUMP = Statement(
    lambda: Counter.update(value=Counter.value + 1).where(Counter.name == Slot("name")).returning(Counter.value)
)
_START = Statement(
    lambda: (
        Counter.insert(id=Slot("id", Counter.id.db_value), name=Slot("name"), value=1)
        .on_conflict(conflict_target=[Counter.tenant_id, Counter.name], update={Counter.value: Counter.value + 1})
        .returning(Counter.value)
    )
)


def next_number(name: str) -> int:
    """The tenant's next number in sequence `name`. Inside the transaction that uses it, numbers
    never skip; outside any, it commits at once, and a failure after that leaves a gap. The first
    use starts the sequence with an upsert, so two first uses at once both get a number."""
    value = _BUMP.scalar(name=name)
    return _START.scalar(id=new_id(), name=name) if value is None else value


class TenantSettings(Model):
    """Per-tenant business hours and holidays, used by SLA clocks and auto-close day counts."""

    workday_start_minute = peewee.IntegerField(default=8 * 60)
    workday_end_minute = peewee.IntegerField(default=17 * 60)
    workdays = peewee.CharField(max_length=7, default="12345")  # ISO weekdays, Monday = 1
    holidays = peewee.TextField(default="")  # ISO dates, comma-separated

    class Meta:
        indexes = ((("tenant_id",), True),)
