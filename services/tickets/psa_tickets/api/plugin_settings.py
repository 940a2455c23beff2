"""/api/v1/settings/plugins: whether each plugin serves this tenant, and its settings for the tenant.

Settings are validated by the plugin's `psa_tenant_settings_schema`; a secret is given, stored
and shown as the name of the environment variable holding it (`{"env": "ACME_RMM_SECRET_DENTAL"}`).
"""

from flask import current_app
from flask.views import MethodView
from marshmallow import fields

from psa_shared.fields import JsonBoolean, UtcDateTime
from psa_shared.plugins import loaded_plugins
from psa_shared.schemas import Schema
from psa_shared.web import Blueprint, page_schema, principal, whole_list

from ..plugin_settings import tenant_settings

blp = Blueprint(
    "plugin_settings", __name__, url_prefix="/api/v1/settings/plugins", description="Per-tenant plugin settings"
)


class PluginSettingsInput(Schema):
    enabled = JsonBoolean(required=True, metadata={"description": "false: the plugin does nothing for this tenant"})
    settings = fields.Dict(
        keys=fields.String(), load_default=dict, metadata={"description": "validated by the plugin's own schema"}
    )


class PluginSettingsSchema(Schema):
    name = fields.String(metadata={"description": "the plugin's `psa` entry-point name"})
    enabled = fields.Boolean()
    settings = fields.Dict(metadata={"description": 'as stored: each secret as {"env": "VARIABLE_NAME"}'})
    settings_schema = fields.Boolean(metadata={"description": "whether the plugin takes settings at all"})
    stale_fields = fields.List(
        fields.String(),
        metadata={
            "description": "fields of the stored settings the plugin's schema (a newer version's) refuses, "
            "by name; the plugin's `tenant_settings` raises StaleSettings until an admin saves again"
        },
    )
    updated_at = UtcDateTime(allow_none=True, metadata={"description": "last saved; null: never (the defaults)"})
    updated_by_id = fields.UUID(allow_none=True, metadata={"description": "the member who saved them last"})


PluginSettingsList = page_schema(PluginSettingsSchema, "PluginSettingsList")


def _plugins():
    return current_app.extensions["psa_plugins"]


@blp.route("")
class PluginSettingsCollection(MethodView):
    @blp.response(200, PluginSettingsList)
    def get(self):
        """Every plugin this service runs, with this tenant's switch and settings (defaults if unset)."""
        principal().require("ticket:read")
        pm = _plugins()
        return whole_list(tenant_settings.show(pm, name) for name in loaded_plugins(pm))


@blp.route("/<name>")
class PluginSettingsItem(MethodView):
    @blp.response(200, PluginSettingsSchema)
    def get(self, name):
        """One plugin's switch and settings for this tenant; 404 for a plugin that does not run here."""
        principal().require("ticket:read")
        return tenant_settings.show(_plugins(), name)

    @blp.arguments(PluginSettingsInput)
    @blp.response(200, PluginSettingsSchema)
    def put(self, data, name):
        """Switch the plugin on or off for this tenant and replace its settings; admins only (settings:write)."""
        principal().require("settings:write")
        by = principal().member_id
        return tenant_settings.save(_plugins(), name, enabled=data["enabled"], settings=data["settings"], by=by)
