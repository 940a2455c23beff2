"""Directory events, published by the tickets service: tenants, members, grants, API keys, clients, contacts."""

import marshmallow as ma
from marshmallow import fields

from . import DecimalText, register


class TenantPayload(ma.Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    time_zone = fields.String(required=True)


class MemberPayload(ma.Schema):
    """What every service needs to authorise a member without calling back."""

    id = fields.UUID(required=True)
    email = fields.Email(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    active = fields.Boolean(required=True)
    stamp = fields.String(required=True)
    all_clients = fields.Boolean(required=True)
    client_ids = fields.List(fields.UUID(), required=True)
    weekly_capacity_hours = DecimalText(required=True)
    updated_at = fields.String(required=True)


class ApiKeyRevokedPayload(ma.Schema):
    """An API key revoked for good: tokens traded for it carry its id (`akid`).

    Args:
        id: the key's id.
        member_id: the member the key belongs to.
        revoked_at: when it was revoked (ISO 8601, UTC).
    """

    id = fields.UUID(required=True)
    member_id = fields.UUID(required=True)
    revoked_at = fields.String(required=True)


class ClientPayload(ma.Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    number = fields.Integer(required=True)
    active = fields.Boolean(required=True)
    updated_at = fields.String(required=True)


class ContactPayload(ma.Schema):
    id = fields.UUID(required=True)
    client_id = fields.UUID(required=True)
    name = fields.String(required=True)
    email = fields.Email(allow_none=True)
    phone = fields.String(allow_none=True)
    updated_at = fields.String(required=True)


class PluginSettingsPayload(ma.Schema):
    """A tenant's switch and settings for one plugin, as saved. Secrets stay references.

    Args:
        plugin: the plugin's `psa` entry-point name.
        enabled: false: the plugin does nothing for this tenant from now on.
        settings: as stored, each secret as `{"env": "VARIABLE_NAME"}`, never its value.
        updated_at: when they were saved (ISO 8601, UTC); the envelope's actor saved them.
    """

    plugin = fields.String(required=True)
    enabled = fields.Boolean(required=True)
    settings = fields.Dict(keys=fields.String(), required=True)
    updated_at = fields.String(required=True)


register("tenant.created", "tickets", 1, TenantPayload, "A new MSP was set up. Consumers create their tenant settings.")
register("tenant.updated", "tickets", 1, TenantPayload, "The MSP's time zone changed (its business hours' PUT).")
for _name, _doc in [
    ("member.created", "A member joined the tenant."),
    ("member.updated", "A member's name, role or capacity changed."),
    ("member.deactivated", "A member left: every service refuses their tokens from now on."),
    ("member.grants_changed", "A member's client grants changed; projections replace theirs."),
]:
    register(_name, "tickets", 1, MemberPayload, _doc + " Carries the member's full current state.")
register(
    "api_key.revoked",
    "tickets",
    1,
    ApiKeyRevokedPayload,
    "An API key was revoked: every service refuses the tokens traded for it (claim `akid`) from now on.",
)
register(
    "plugin.settings_changed",
    "tickets",
    1,
    PluginSettingsPayload,
    "A tenant's admin switched a plugin on or off or replaced its settings (a switched-off plugin "
    "is not told: its tenant's events skip it).",
)
register("client.created", "tickets", 1, ClientPayload, "The MSP took on a client.")
register("client.updated", "tickets", 1, ClientPayload, "A client's name or active flag changed.")
register("contact.created", "tickets", 1, ContactPayload, "A contact person was added to a client.")
register("contact.updated", "tickets", 1, ContactPayload, "A contact's details changed.")
