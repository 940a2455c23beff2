"""/api/v1/reports/at-risk: credentials an (offboarded) member saw that have not been changed since,
and attachments they downloaded or uploaded that are still kept."""

import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields

from psa_shared.errors import field_error
from psa_shared.fields import UtcDateTime
from psa_shared.schemas import Schema
from psa_shared.web import Blueprint, page_schema, principal, whole_list

from .. import offboarding
from ..projection import MemberRecord

blp = Blueprint("at_risk", __name__, url_prefix="/api/v1/reports/at-risk", description="Offboarding report")


class AtRiskQuery(ma.Schema):
    member = fields.UUID(required=True)


class AtRiskItemSchema(Schema):
    """A credential (`credential_id`) or an attachment (`attachment_id`, `configuration_id`)."""

    credential_id = fields.UUID(dump_default=None)
    attachment_id = fields.UUID(dump_default=None)
    configuration_id = fields.UUID(dump_default=None)
    client_id = fields.UUID()
    name = fields.String()
    last_seen_at = UtcDateTime()
    changed_at = UtcDateTime()


AtRiskSchema = page_schema(AtRiskItemSchema, "AtRisk")


@blp.route("")
class AtRisk(MethodView):
    @blp.arguments(AtRiskQuery, location="query")
    @blp.response(200, AtRiskSchema)
    def get(self, args):
        """Every credential the member revealed, exported or set whose secret has not changed since, and
        every attachment they downloaded or uploaded that is still kept (one page)."""
        p = principal()
        p.require("audit:read")
        if MemberRecord.get_or_none(MemberRecord.id == args["member"]) is None:
            raise field_error("member", "member not found")
        return whole_list(offboarding.seen_and_unchanged(args["member"], visible_to=p))
