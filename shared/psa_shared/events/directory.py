"""Directory events, published by the tickets service: tenants, members, grants, API keys, clients, contacts."""

import marshmallow as ma
from marshmallow import fields

from . import DecimalText, register, upcaster


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
    # the clients granted by name, as `GET .../grants` reads them, also beside `all_clients`: a demoted
    # admin keeps these (until 2026-11-28 sent empty whenever `all_clients` was true)
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
    """A client as it is now: every field its PATCH changes (version 2).

    Args:
        id: the client's id.
        name: its name.
        number: its number, read-only.
        phone, website, notes: as stored (null: none); null on a version 1 event, which did not carry them.
        active: false: the MSP no longer works for it.
        updated_at: its last change (ISO 8601, UTC), the version a projection keeps the newest of.
    """

    id = fields.UUID(required=True)
    name = fields.String(required=True)
    number = fields.Integer(required=True)
    phone = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    active = fields.Boolean(required=True)
    updated_at = fields.String(required=True)


class ContactPayload(ma.Schema):
    """A contact as it is now: every field its PATCH changes (version 2).

    Args:
        id: the contact's id.
        client_id: the client they work for.
        name, email, phone, title: as stored (null: none); `title` null on a version 1 event.
        active: false: deactivated; null only on a version 1 event, which did not carry it.
        updated_at: its last change (ISO 8601, UTC), the version a projection keeps the newest of.
    """

    id = fields.UUID(required=True)
    client_id = fields.UUID(required=True)
    name = fields.String(required=True)
    email = fields.Email(allow_none=True)
    phone = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    active = fields.Boolean(required=True, allow_none=True)
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
    ("member.updated", "A member's name, email, role, capacity or password (a new stamp) changed."),
    ("member.deactivated", "A member left: every service refuses their tokens from now on."),
    (
        "member.grants_changed",
        "A member's client grants changed (a PUT of them, or a client they added, granted to them); "
        "projections replace theirs.",
    ),
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
# version 2 (2026-11-28): clients' phone, website and notes, contacts' title and active flag
register("client.created", "tickets", 2, ClientPayload, "The MSP took on a client.")
register(
    "client.updated", "tickets", 2, ClientPayload, "A client's name, phone, website, notes or active flag changed."
)
register("contact.created", "tickets", 2, ContactPayload, "A contact person was added to a client.")
register(
    "contact.updated",
    "tickets",
    2,
    ContactPayload,
    "A contact's name, email, phone, title or client changed, or they were deactivated or reactivated.",
)


def _client_version_1(payload: dict) -> dict:
    """Version 1 had no phone, website or notes."""
    return {**dict.fromkeys(("phone", "website", "notes")), **payload}


def _contact_version_1(payload: dict) -> dict:
    """Version 1 had no title nor active flag: neither is known."""
    return {"title": None, "active": None, **payload}


for _name, _upcast in [
    ("client.created", _client_version_1),
    ("client.updated", _client_version_1),
    ("contact.created", _contact_version_1),
    ("contact.updated", _contact_version_1),
]:
    upcaster(_name, 1)(_upcast)
