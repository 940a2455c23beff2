"""Docs-vault events: configurations (read models elsewhere), reveal bursts, rotation work.

No payload here ever carries a secret, a key or a ciphertext.
"""

import marshmallow as ma
from marshmallow import fields

from . import register


class ConfigurationPayload(ma.Schema):
    id = fields.UUID(required=True)
    client_id = fields.UUID(required=True)
    type = fields.String(required=True)
    name = fields.String(required=True)
    active = fields.Boolean(required=True)
    updated_at = fields.String(required=True)


class RevealBurstPayload(ma.Schema):
    member_id = fields.UUID(required=True)
    count = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    window_seconds = fields.Integer(required=True)


class RotationRequiredPayload(ma.Schema):
    """One event per offboarded member; the tickets service opens one ticket per client."""

    member_id = fields.UUID(required=True)
    member_name = fields.String(required=True)
    clients = fields.List(
        fields.Nested(
            ma.Schema.from_dict(
                {"client_id": fields.UUID(required=True), "credential_ids": fields.List(fields.UUID(), required=True)},
                name="RotationClient",
            )
        ),
        required=True,
    )


class KeyRotatedPayload(ma.Schema):
    key_version = fields.Integer(required=True)


for _name, _schema, _doc in [
    ("configuration.created", ConfigurationPayload, "A configuration (device, license, ...) was documented."),
    ("configuration.updated", ConfigurationPayload, "A configuration changed or was retired (active false)."),
    ("vault.reveal_burst", RevealBurstPayload, "A member went past the tenant's reveal limit."),
    ("vault.rotation_required", RotationRequiredPayload, "An offboarded member saw credentials not changed since."),
    ("vault.key_rotated", KeyRotatedPayload, "The tenant's data key rotated; servers drop cached keys."),
]:
    register(_name, "docs_vault", 1, _schema, _doc)
