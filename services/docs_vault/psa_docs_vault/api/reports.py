"""/api/v1/reports/at-risk: credentials an (offboarded) member saw that have not been changed since."""

import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields

from psa_shared.errors import field_error
from psa_shared.fields import UtcDateTime
from psa_shared.schemas import Schema
from psa_shared.web import Blueprint, principal

from .. import offboarding
from ..projection import MemberRecord

blp = Blueprint("at_risk", __name__, url_prefix="/api/v1/reports/at-risk", description="Offboarding report")


class AtRiskQuery(ma.Schema):
    member = fields.UUID(required=True)


class AtRiskItemSchema(Schema):
    credential_id = fields.UUID()
    client_id = fields.UUID()
    name = fields.String()
    last_seen_at = UtcDateTime()
    changed_at = UtcDateTime()


class AtRiskSchema(Schema):
    items = fields.List(fields.Nested(AtRiskItemSchema))
    next_cursor = fields.String(allow_none=True)


@blp.route("")
class AtRisk(MethodView):
    @blp.arguments(AtRiskQuery, location="query")
    @blp.response(200, AtRiskSchema)
    def get(self, args):
        """Every credential the member revealed or exported whose secret has not changed since (one page)."""
        p = principal()
        p.require("audit:read")
        if MemberRecord.get_or_none(MemberRecord.id == args["member"]) is None:
            raise field_error("member", "member not found")
        return {"items": offboarding.at_risk(args["member"], visible_to=p), "next_cursor": None}
