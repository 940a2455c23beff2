"""/api/v1/auth: sign-in (password or API key) for short-lived tokens, API keys, and JWKS."""

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from marshmallow import fields, validate

from psa_shared.errors import PROBLEM_JSON
from psa_shared.fields import UtcDateTime
from psa_shared.schemas import Schema
from psa_shared.web import Blueprint, ProblemSchema, client_address, page_schema, principal, public, whole_list

from ..directory import sign_in_limit, tokens
from . import fields as f

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Tokens and API keys")
jwks_blp = Blueprint("jwks", __name__, url_prefix="/.well-known", description="Token verification keys")


def _keyring():
    return current_app.extensions["psa_keyring"]


def _ttl() -> int:
    return current_app.extensions["psa_settings"].token_ttl_seconds


REFUSED = {
    "description": "Too many failed sign-ins (for the account, the MSP or the client address); the password "
    "was not checked.",
    "headers": {
        "Retry-After": {
            "description": "Seconds until the window that refused ends.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


class TokenRequest(ma.Schema):
    tenant = fields.UUID()
    email = f.email()
    password = fields.String(validate=validate.Length(max=200))
    api_key = fields.String(validate=validate.Length(max=200))

    @ma.validates_schema
    def _one_way_in(self, data, **kwargs):
        if "api_key" not in data and not {"tenant", "email", "password"} <= data.keys():
            raise ma.ValidationError("send tenant, email and password, or api_key", "api_key")


class TokenResponse(ma.Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class ApiKeySchema(Schema):
    id = fields.UUID(dump_only=True)
    name = f.name(max_length=100)
    scopes = fields.List(
        fields.String(validate=validate.Length(max=40)), allow_none=True, validate=validate.Length(max=50)
    )
    created_at = UtcDateTime(dump_only=True)
    last_used_at = UtcDateTime(dump_only=True, allow_none=True)  # never used yet
    revoked_at = UtcDateTime(dump_only=True, allow_none=True)  # still valid


class NewApiKeySchema(ApiKeySchema):
    key = fields.String(dump_only=True, metadata={"description": "Shown once; only its hash is kept."})


class ApiKeyQuery(ma.Schema):
    member_id = fields.UUID(
        metadata={"description": "Another member's keys (needs `member:write`), to revoke after a compromise."}
    )


class JwksSchema(Schema):
    keys = fields.List(fields.Dict(), metadata={"description": "RFC 7517 JSON Web Keys (OKP, Ed25519)."})


class MeSchema(Schema):
    member_id = fields.UUID()
    tenant_id = fields.UUID()
    role = fields.String()
    permissions = fields.List(fields.String())
    all_clients = fields.Boolean()


def _api_key_out(row, key=None) -> dict:
    out = {k: getattr(row, k) for k in ("id", "name", "created_at", "last_used_at", "revoked_at")}
    return out | {"scopes": row.scopes.split() if row.scopes is not None else None} | ({"key": key} if key else {})


@blp.route("/token", methods=["POST"])
@blp.arguments(TokenRequest)
@blp.response(200, TokenResponse)
@blp.alt_response(429, schema=ProblemSchema, content_type=PROBLEM_JSON, **REFUSED)
@public
def token(data):
    """Trade a password (with tenant and email) or an API key for an access token. After 10
    failed passwords for one email, 100 across the MSP's emails or 50 from one client address
    within 15 minutes (by default): 429 with `Retry-After`, password unchecked."""
    if "api_key" in data:
        access = tokens.exchange_api_key(_keyring(), data["api_key"], _ttl())
    else:
        attempt = sign_in_limit.Attempt.of(current_app.extensions["psa_settings"], client_address())
        access = tokens.login(_keyring(), data["tenant"], data["email"], data["password"], _ttl(), attempt)
    return {"access_token": access, "token_type": "Bearer", "expires_in": _ttl()}


@blp.route("/me")
@blp.response(200, MeSchema)
def me():
    p = principal()
    return {
        "member_id": p.member_id,
        "tenant_id": p.tenant_id,
        "role": p.member.role,
        "permissions": sorted(p.permissions),
        "all_clients": p.member.all_clients,
    }


@blp.route("/api-keys")
class ApiKeys(MethodView):
    @blp.arguments(ApiKeyQuery, location="query")
    @blp.response(200, page_schema(ApiKeySchema, "ApiKeyList"))
    def get(self, args):
        """The caller's own API keys, or `member_id`'s (never the keys themselves)."""
        return whole_list(_api_key_out(row) for row in tokens.member_keys(principal(), args.get("member_id")))

    @blp.arguments(ApiKeySchema)
    @blp.response(201, NewApiKeySchema)
    def post(self, data):
        """Create an API key for an integration; `scopes` narrows it below the caller's role."""
        principal().require("apikey:write")
        row, key = tokens.create_api_key(principal(), data["name"], data.get("scopes"))
        return _api_key_out(row, key)


@blp.route("/api-keys/<uuid:key_id>", methods=["DELETE"])
@blp.response(200, ApiKeySchema)
def revoke(key_id):
    """Revoke an API key: it can no longer be traded for tokens. Like making one, it needs
    `apikey:write`: a leaked key scoped to reading cannot cut off the member's other integrations.
    With `member:write` too, any member's key of the tenant (listed with `?member_id=`)."""
    principal().require("apikey:write")
    return _api_key_out(tokens.revoke_api_key(principal(), key_id))


@jwks_blp.route("/jwks.json")
@jwks_blp.response(200, JwksSchema)
@jwks_blp.doc(security=[])  # public: verifiers fetch it without a token
@public
def jwks():
    """Public keys that verify PSA Core access tokens (Ed25519, by `kid`)."""
    return _keyring().jwks()
