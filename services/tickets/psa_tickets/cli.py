"""`psa tenant ...` and `psa token ...`: set up MSPs and mint tokens from the shell.

They write rows and outbox entries only; a running `psa serve` on the same data dir relays
the events."""

import json
import uuid

import click
import marshmallow as ma
from marshmallow import fields

from psa_shared.auth import KeyRing
from psa_shared.cli import bound_system
from psa_shared.tenancy import tenant_scope

from .api import fields as f
from .api.members import MemberSchema
from .api.settings import BusinessHoursSchema
from .directory.models import Member
from .directory.tenants import create_tenant, get_tenant
from .directory.tokens import member_view


def _checked(field: fields.Field):
    """A click callback refusing, by the API's own field (exit 2, naming the option), what the
    directory would otherwise store: an address that is none, a zone SLA clocks cannot read."""

    def callback(ctx, param, value):
        if value is None:
            return value
        try:
            value = field.deserialize(value)
        except ma.ValidationError as error:
            raise click.BadParameter("; ".join(error.messages), ctx, param) from None
        return value

    return callback


_member = MemberSchema().fields
_zone = BusinessHoursSchema().fields["time_zone"]


@click.group("tenant")
def tenant_group():
    """Manage tenants (one per MSP)."""


@tenant_group.command("create")
@click.argument("name", callback=_checked(f.name()))
@click.option("--admin-email", required=True, callback=_checked(_member["email"]))
@click.option(
    "--admin-password",
    default=None,
    help="Lets the admin sign in with a password too (8 characters or more).",
    callback=_checked(_member["password"]),
)
@click.option("--time-zone", default="UTC", show_default=True, callback=_checked(_zone))
def tenant_create(name, admin_email, admin_password, time_zone):
    """Create a tenant and its first admin; prints JSON with ids and an access token."""
    system = bound_system("tickets")
    tenant, admin = create_tenant(name, admin_email, admin_password, time_zone)
    with tenant_scope(tenant.id):
        token = KeyRing.load(system.settings, issuer=True).mint(member_view(admin), system.settings.token_ttl_seconds)
    click.echo(json.dumps({"tenant_id": str(tenant.id), "admin_member_id": str(admin.id), "access_token": token}))


@click.group("token")
def token_group():
    """Mint access tokens."""


@token_group.command("issue")
@click.option("--tenant", "tenant_id", required=True, type=click.UUID)
@click.option("--email", required=True)
@click.option(
    "--ttl", type=click.IntRange(min=1), default=None, help="Seconds the token lives (default PSA_TOKEN_TTL)."
)
def token_issue(tenant_id: uuid.UUID, email: str, ttl: int | None):
    """Print JSON with an access token for an existing, active member."""
    system = bound_system("tickets")
    if get_tenant(tenant_id) is None:
        raise click.ClickException("no such tenant")
    with tenant_scope(tenant_id):
        member = Member.get_or_none(Member.email == email.lower())
        if member is None or not member.active:
            raise click.ClickException("no active member with that email in this tenant")
        ttl = ttl or system.settings.token_ttl_seconds
        token = KeyRing.load(system.settings, issuer=True).mint(member_view(member), ttl)
    click.echo(json.dumps({"access_token": token, "member_id": str(member.id), "expires_in": ttl}))
