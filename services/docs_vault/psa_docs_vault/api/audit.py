"""/api/v1/audit: who saw or changed what, when, from where, and every refused attempt (admins)."""

from flask.views import MethodView
from marshmallow import fields, validate

from psa_shared.fields import UtcDateTime
from psa_shared.schemas import Schema
from psa_shared.web import Blueprint, ListArgs, keyset_page, page_schema, principal

from ..audit import ACTIONS, AuditRow

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="The vault's audit log")


class AuditRowSchema(Schema):
    id = fields.UUID()
    seq = fields.Integer()
    at = UtcDateTime()
    actor_id = fields.UUID(allow_none=True)
    action = fields.String()
    outcome = fields.String()
    detail = fields.String(allow_none=True)
    client_id = fields.UUID(allow_none=True)
    credential_id = fields.UUID(allow_none=True)
    attachment_id = fields.UUID(allow_none=True)
    reason = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)


class AuditQuery(ListArgs):
    actor_id = fields.UUID()
    client_id = fields.UUID()
    credential_id = fields.UUID()
    attachment_id = fields.UUID()
    action = fields.String(validate=validate.OneOf(ACTIONS))
    outcome = fields.String(validate=validate.OneOf(["allowed", "denied"]))


@blp.route("")
class Audit(MethodView):
    @blp.arguments(AuditQuery, location="query")
    @blp.response(200, page_schema(AuditRowSchema))
    def get(self, args):
        """Audit rows of the tenant, newest first; filters: member, client, credential, attachment, action, outcome."""
        p = principal()
        p.require("audit:read")
        query = p.within_grants(AuditRow.select(), AuditRow.client_id)
        for name in ("actor_id", "client_id", "credential_id", "attachment_id", "action", "outcome"):
            if name in args:
                query = query.where(getattr(AuditRow, name) == args[name])
        return keyset_page(query, AuditRow, args)
