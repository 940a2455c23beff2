"""A partner's plugin returns its settings schema as an instance (`AcmeSettings()`) rather than the
class: it is refused at start-up naming the plugin, as a misspelt hook is. Until 2026-11-28 it
loaded, and `GET /api/v1/settings/plugins` answered 500 to every tenant, other plugins' settings
with it."""

import marshmallow as ma
import pluggy
import pytest
from marshmallow import fields

from psa_shared.config import Settings
from psa_shared.plugins import hookimpl, plugin_manager


class AcmeSettings(ma.Schema):
    region = fields.String(load_default="eu")


class AcmeRmm:
    @hookimpl
    def psa_tenant_settings_schema(self):
        return AcmeSettings()  # the instance: the hook asks for the class


def test_a_settings_schema_given_as_an_instance_is_refused_at_start_up_naming_the_plugin(plugins):
    plugins(AcmeRmm(), "acme_rmm")
    with pytest.raises(pluggy.PluginValidationError, match="plugin 'acme_rmm': psa_tenant_settings_schema must"):
        plugin_manager(Settings.from_env({}))
