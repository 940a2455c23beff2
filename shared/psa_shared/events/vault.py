"""Docs-vault events: configurations (read models elsewhere), reveal bursts, rotation work.

No payload here ever carries a secret, a key or a ciphertext.
"""

import marshmallow as ma
from marshmallow import fields

from . import register, upcaster


class ConfigurationPayload(ma.Schema):
    id = fields.UUID(required=True)
    client_id = fields.UUID(required=True)
    type = fields.String(required=True)
    name = fields.String(required=True)
    active = fields.Boolean(required=True)
    updated_at = fields.String(required=True)


class AttachmentPayload(ma.Schema):
    """A file attached to (or removed from) a configuration; the bytes never travel."""

    id = fields.UUID(required=True)
    configuration_id = fields.UUID(required=True)
    client_id = fields.UUID(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)


class CredentialPayload(ma.Schema):
    """A credential's metadata; the secret (plain or encrypted) never travels.

    Version 2 (2026-11-28) adds `updated_at`, the version: the credential's last change (on
    `credential.deleted`, the delete's), later than every earlier event of it. `changed_at` moves
    only with the secret, so version 1 sent a create, its renames and its delete all at one time."""

    id = fields.UUID(required=True)
    client_id = fields.UUID(required=True)
    configuration_id = fields.UUID(allow_none=True)
    name = fields.String(required=True)
    secret_changed = fields.Boolean(required=True)
    changed_at = fields.String(required=True)
    updated_at = fields.String(required=True)


@upcaster("credential.created", 1)
@upcaster("credential.updated", 1)
@upcaster("credential.deleted", 1)
def _changed_at_was_the_version(payload: dict) -> dict:
    """Version 1 had no `updated_at`: its `changed_at` is no later than the change it sent."""
    return {**payload, "updated_at": payload["changed_at"]}


class VaultSettingsPayload(ma.Schema):
    """The tenant's reveal rules as they are now. Version 2 (2026-11-28) adds `updated_at`, the version."""

    reveal_limit_per_hour = fields.Integer(required=True)
    reason_required = fields.Boolean(required=True)
    updated_at = fields.String(required=True)


@upcaster("vault.settings_changed", 1)
def _settings_before_versions(payload: dict) -> dict:
    """Version 1 carried no time: read as the earliest there is, older than every version 2 event."""
    return {**payload, "updated_at": "1970-01-01T00:00:00Z"}


class RevealBurstPayload(ma.Schema):
    member_id = fields.UUID(required=True)
    count = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    window_seconds = fields.Integer(required=True)


class RotationRequiredPayload(ma.Schema):
    """One event per offboarded member; the tickets service opens one ticket per client.

    Version 2 (2026-11-28) adds each client's `attachments` the member downloaded or uploaded that
    are still kept (a `.key`, a VPN profile): version 1 named credentials alone, so the files a
    departing engineer took home raised no rotation work."""

    member_id = fields.UUID(required=True)
    member_name = fields.String(required=True)
    clients = fields.List(
        fields.Nested(
            ma.Schema.from_dict(
                {
                    "client_id": fields.UUID(required=True),
                    "credential_ids": fields.List(fields.UUID(), required=True),
                    "attachments": fields.List(
                        fields.Nested(
                            ma.Schema.from_dict(
                                {"id": fields.UUID(required=True), "configuration_id": fields.UUID(required=True)},
                                name="RotationAttachment",
                            )
                        ),
                        required=True,
                    ),
                },
                name="RotationClient",
            )
        ),
        required=True,
    )


@upcaster("vault.rotation_required", 1)
def _credentials_alone(payload: dict) -> dict:
    """Version 1 named no attachments."""
    return {**payload, "clients": [{"attachments": [], **client} for client in payload["clients"]]}


class KeyRotatedPayload(ma.Schema):
    key_version = fields.Integer(required=True)


# version 2 (2026-11-28): rotation work's attachments; credentials' and the settings' `updated_at`
_VERSIONS = {RotationRequiredPayload: 2, CredentialPayload: 2, VaultSettingsPayload: 2}

for _name, _schema, _doc in [
    ("configuration.created", ConfigurationPayload, "A configuration (device, license, ...) was documented."),
    ("configuration.updated", ConfigurationPayload, "A configuration changed or was retired (active false)."),
    ("attachment.added", AttachmentPayload, "A file was attached to a configuration."),
    ("attachment.removed", AttachmentPayload, "A configuration's attachment was deleted."),
    ("credential.created", CredentialPayload, "A credential was stored for a client."),
    ("credential.updated", CredentialPayload, "A credential's details or secret changed."),
    ("credential.deleted", CredentialPayload, "A credential was deleted with its secret."),
    ("vault.settings_changed", VaultSettingsPayload, "The tenant's reveal limit or reason rule changed."),
    ("vault.reveal_burst", RevealBurstPayload, "A member went past the tenant's reveal limit."),
    (
        "vault.rotation_required",
        RotationRequiredPayload,
        "An offboarded member saw credentials not changed since, or holds copies of attachments still kept.",
    ),
    ("vault.key_rotated", KeyRotatedPayload, "The tenant's data key rotated; servers drop cached keys."),
]:
    register(_name, "docs_vault", _VERSIONS.get(_schema, 1), _schema, _doc)
