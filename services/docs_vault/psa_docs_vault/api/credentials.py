"""/api/v1/credentials: per-client credentials. The secret is write-only except through reveal/export."""

import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields, validate

from psa_shared.fields import JsonBoolean, UtcDateTime
from psa_shared.schemas import Schema
from psa_shared.web import Blueprint, ListArgs, keyset_page, page_schema, principal

from .. import audit
from ..credentials import service, settings
from ..credentials.models import Credential
from ..database import db

blp = Blueprint("credentials", __name__, url_prefix="/api/v1/credentials", description="Per-client credentials")


def _text(size: int, **kw):
    return fields.String(validate=validate.Length(max=size), allow_none=True, **kw)


class CredentialSchema(Schema):
    """A credential as lists and reads show it: never the secret."""

    id = fields.UUID(dump_only=True)
    client_id = fields.UUID(required=True)
    configuration_id = fields.UUID(allow_none=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    username = _text(200)
    url = _text(2000)
    notes = _text(10_000)
    secret = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=10_000))
    changed_at = UtcDateTime(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class CredentialPatchSchema(Schema):
    """What may change; a credential stays with its client (move it by re-creating it)."""

    configuration_id = fields.UUID(allow_none=True)
    name = fields.String(validate=validate.Length(min=1, max=200))
    username = _text(200)
    url = _text(2000)
    notes = _text(10_000)
    secret = fields.String(load_only=True, validate=validate.Length(min=1, max=10_000))


class CredentialQuery(ListArgs):
    client_id = fields.UUID()
    configuration_id = fields.UUID()
    q = fields.String(validate=validate.Length(min=1, max=200))


class RevealSchema(Schema):
    reason = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=500))


class SecretSchema(Schema):
    secret = fields.String()


class ExportArgs(ma.Schema):
    client_id = fields.UUID(allow_none=True, load_default=None)


class ExportItemSchema(Schema):
    id = fields.UUID()
    client_id = fields.UUID()
    configuration_id = fields.UUID(allow_none=True)
    name = fields.String()
    username = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    secret = fields.String()


class ExportSchema(Schema):
    items = fields.List(fields.Nested(ExportItemSchema))


class VaultSettingsSchema(Schema):
    # strict, as every body integer: until 2026-11-27 1.9 was stored as 1 and "30" as 30
    reveal_limit_per_hour = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))
    reason_required = JsonBoolean(required=True)


def _ctx() -> audit.Context:
    return audit.request_context(principal().member_id)


@blp.route("")
class Credentials(MethodView):
    @blp.arguments(CredentialQuery, location="query")
    @blp.response(200, page_schema(CredentialSchema))
    def get(self, args):
        """List credentials of the clients the caller is granted, newest first (no secrets)."""
        principal().require("vault:read")
        query = service.visible(principal())
        for name in ("client_id", "configuration_id"):
            if name in args:
                query = query.where(getattr(Credential, name) == args[name])
        if "q" in args:
            query = query.where(db.contains(Credential.name, args["q"]))
        return keyset_page(query, Credential, args)

    @blp.arguments(CredentialSchema)
    @blp.response(201, CredentialSchema)
    def post(self, data):
        """Store a credential; `secret` is encrypted and never shown again except by reveal."""
        principal().require("vault:write")
        return service.create(principal(), _ctx(), data)


@blp.route("/settings")
class Settings(MethodView):
    @blp.response(200, VaultSettingsSchema)
    def get(self):
        """The tenant's reveal limit per member and hour, and whether a reason is required."""
        principal().require("vault:read")
        return settings.current()

    @blp.arguments(VaultSettingsSchema)
    @blp.response(200, VaultSettingsSchema)
    def put(self, data):
        principal().require("settings:write")
        return settings.update(_ctx(), **data)


@blp.route("/export")
class Export(MethodView):
    @blp.arguments(ExportArgs, required=False)  # no body at all exports every client
    @blp.response(200, ExportSchema)
    def post(self, data):
        """Every credential (of one client, or all) with its secret: `vault:export`, admins only; audited."""
        return {"items": service.export(principal(), _ctx(), data.get("client_id"))}


@blp.route("/<uuid:credential_id>")
class CredentialById(MethodView):
    @blp.response(200, CredentialSchema)
    def get(self, credential_id):
        principal().require("vault:read")
        return service.get_visible(principal(), credential_id)

    @blp.arguments(CredentialPatchSchema, required=False)  # no body keeps every field
    @blp.response(200, CredentialSchema)
    def patch(self, data, credential_id):
        """Change details; sending `secret` replaces it and moves `changed_at`."""
        return service.update(principal(), _ctx(), credential_id, data)

    @blp.response(204)
    def delete(self, credential_id):
        service.delete(principal(), _ctx(), credential_id)


@blp.route("/<uuid:credential_id>/reveal")
class Reveal(MethodView):
    @blp.arguments(RevealSchema)
    @blp.response(200, SecretSchema)
    def post(self, data, credential_id):
        """The secret, audited in the same transaction (no audit, no secret); rate-limited per member."""
        return {"secret": service.reveal(principal(), _ctx(), credential_id, data.get("reason"))}
