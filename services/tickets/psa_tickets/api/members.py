"""/api/v1/members: who works at the MSP, their role, capacity and client grants."""

from decimal import Decimal

import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields, validate

from psa_shared.auth import ROLES
from psa_shared.fields import JsonBoolean, QueryBoolean, UtcDateTime
from psa_shared.schemas import Schema
from psa_shared.web import Blueprint, ListArgs, keyset_page, page_schema, principal

from ..directory import members
from ..directory.events import granted_client_ids
from ..directory.models import Member
from . import fields as f

blp = Blueprint("members", __name__, url_prefix="/api/v1/members", description="Members of the MSP")


def _whole_minutes(hours: Decimal) -> None:
    """Capacity is kept in minutes: until 2026-11-28 37.51 h was kept as 2,251 minutes and read
    back as 37.52 (and 0.005 h as 0), where refusing loses nothing."""
    minutes = hours * 60
    if minutes != minutes.to_integral_value():
        below = (minutes // 3 * 3) / 60  # a multiple of 0.05 h is a whole number of minutes
        raise ma.ValidationError(
            f"{hours} h is {minutes.normalize():f} minutes: capacity is kept in whole minutes, so give "
            f"a multiple of 0.05 h, such as {below:.2f} or {below + Decimal('0.05'):.2f}"
        )


# Hours go out as a decimal string ("37.50") and come in as a number or such a string; apispec would
# print the range bounds as strings too (an invalid schema), so the documented type and bounds are given.
capacity = fields.Decimal(
    as_string=True,
    validate=[validate.Range(min=0, max=168), _whole_minutes],
    metadata={
        "type": ["number", "string"],
        "minimum": 0,
        "maximum": 168,
        "description": "hours a week, in whole minutes (a multiple of 0.05 h); read back to 2 places",
    },
)


class MemberSchema(Schema):
    id = fields.UUID(dump_only=True)
    email = f.email(required=True)
    name = f.name()
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    password = fields.String(load_only=True, validate=validate.Length(min=8, max=200))
    weekly_capacity_hours = capacity
    active = fields.Boolean(dump_only=True)
    all_clients = fields.Boolean(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class MemberQuery(ListArgs):
    role = fields.String(validate=validate.OneOf(ROLES))
    active = QueryBoolean()
    email = fields.String(validate=validate.Length(max=254))


class GrantsSchema(Schema):
    all_clients = JsonBoolean(required=True)
    client_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=10_000))


@blp.route("")
class Members(MethodView):
    @blp.arguments(MemberQuery, location="query")
    @blp.response(200, page_schema(MemberSchema))
    def get(self, args):
        """List members, oldest last (newest first)."""
        principal().require("member:read")
        query = Member.select()
        for name in ("role", "active"):
            if name in args:
                query = query.where(getattr(Member, name) == args[name])
        if "email" in args:
            query = query.where(Member.email == args["email"].lower())
        return keyset_page(query, Member, args)

    @blp.arguments(MemberSchema)
    @blp.response(201, MemberSchema)
    def post(self, data):
        """Add a member; admins see all clients by default, everyone else none until granted."""
        principal().require("member:write")
        return members.create_member(**data)


@blp.route("/<uuid:member_id>")
class MemberById(MethodView):
    @blp.response(200, MemberSchema)
    def get(self, member_id):
        principal().require("member:read")
        return members.get_member(member_id)

    @blp.arguments(MemberSchema(partial=True), required=False)
    @blp.response(200, MemberSchema)
    def patch(self, data, member_id):
        """Change name, email, role, capacity or password (a new password signs the member out).
        The tenant's last active admin keeps the admin role (422 naming `role`)."""
        principal().require("member:write")
        return members.update_member(member_id, **data)


@blp.route("/<uuid:member_id>/deactivate", methods=["POST"])
@blp.response(200, MemberSchema)
def deactivate(member_id):
    """The member leaves: every token of theirs stops working at once. The tenant's last active
    admin cannot leave so (409)."""
    principal().require("member:write")
    return members.deactivate_member(member_id)


@blp.route("/<uuid:member_id>/grants")
class Grants(MethodView):
    @blp.response(200, GrantsSchema)
    def get(self, member_id):
        """The member's grants. A caller who may not change grants sees only the clients they see
        themselves: the others answer 404 to them everywhere else, so listing them here told a
        technician which clients exist. Admins see all: `PUT` replaces the list they read."""
        caller = principal()
        caller.require("member:read")
        member = members.get_member(member_id)
        granted = granted_client_ids(member)
        if "member:write" not in caller.permissions:
            granted = [client_id for client_id in granted if caller.sees_client(client_id)]
        return {"all_clients": member.all_clients, "client_ids": granted}

    @blp.arguments(GrantsSchema)
    @blp.response(200, GrantsSchema)
    def put(self, data, member_id):
        """Replace the member's grants: all clients, or exactly the listed ones."""
        principal().require("member:write")
        member = members.set_grants(member_id, data["all_clients"], data["client_ids"])
        return {"all_clients": member.all_clients, "client_ids": granted_client_ids(member)}
