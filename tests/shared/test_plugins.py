"""The plugin host: strict loading, allow- and block-lists, the CLI hook."""

import click
import flask
import pluggy
import pytest
from click.testing import CliRunner

from psa_shared.config import Settings
from psa_shared.plugins import hookimpl, plugin_manager
from psa_shared.tenancy import current_tenant
from psa_shared.web import public


class RmmPlugin:
    @hookimpl
    def psa_register_cli_commands(self, cli):
        @cli.command("rmm-sync")
        def rmm_sync():
            click.echo("synced")


class MisspeltPlugin:
    @hookimpl
    def psa_register_cli_comands(self, cli):  # one "m": must fail at start-up, not silently never run
        pass


def test_misspelt_hook_fails_at_start_up(plugins):
    plugins(MisspeltPlugin(), "typo")
    with pytest.raises(pluggy.PluginValidationError):
        plugin_manager(Settings.from_env({}))


def test_plugin_adds_a_cli_command(plugins):
    plugins(RmmPlugin(), "rmm")
    group = click.Group("psa")
    plugin_manager(Settings.from_env({})).hook.psa_register_cli_commands(cli=group)
    assert CliRunner().invoke(group, ["rmm-sync"]).output == "synced\n"


def test_allow_and_block_lists_decide_what_loads(plugins):
    plugins(RmmPlugin(), "rmm")
    assert plugin_manager(Settings.from_env({"PSA_PLUGINS": "other"})).get_plugin("rmm") is None
    assert plugin_manager(Settings.from_env({"PSA_DISABLED_PLUGINS": "rmm"})).get_plugin("rmm") is None
    assert plugin_manager(Settings.from_env({})).get_plugin("rmm") is not None


def test_secret_holding_services_load_only_allow_listed_plugins(plugins):
    plugins(RmmPlugin(), "rmm")
    assert plugin_manager(Settings.from_env({}), allow_list_only=True).get_plugin("rmm") is None
    allowed = Settings.from_env({"PSA_PLUGINS": "rmm"})
    assert plugin_manager(allowed, allow_list_only=True).get_plugin("rmm") is not None


class WebhookPlugin:
    """An RMM integration: a webhook endpoint and a reaction to new clients."""

    def __init__(self):
        self.seen = []

    @hookimpl
    def psa_register_blueprints(self):
        blueprint = flask.Blueprint("rmm_webhook", __name__)

        @blueprint.post("/alerts")
        @public
        def alert():
            return {"accepted": flask.request.get_json()["device"]}, 202

        @blueprint.get("/whoami")
        def whoami():
            return {"tenant": str(current_tenant())}

        return [("rmm", blueprint)]

    @hookimpl
    def psa_event_types(self):
        return ["client.created"]

    @hookimpl
    def psa_on_event(self, event, payload):
        self.seen.append((event.type, payload["name"]))


@pytest.fixture
def rmm(plugins) -> WebhookPlugin:
    """Installed before the system starts, as a plugin distribution would be."""
    plugin = WebhookPlugin()
    plugins(plugin, "rmm")
    return plugin


def test_plugin_webhook_is_mounted_under_its_name_and_authenticated_unless_public(rmm, psa, tenant):
    response = psa.http.post("/api/v1/plugins/rmm/alerts", json={"device": "FW-01"})
    assert response.status_code == 202 and response.json == {"accepted": "FW-01"}
    assert psa.http.get("/api/v1/plugins/rmm/whoami").status_code == 401
    assert tenant.api.get("/api/v1/plugins/rmm/whoami").json == {"tenant": tenant.id}


def test_plugin_hears_events_in_the_worker_not_the_request(rmm, psa, tenant):
    tenant.client("Acme Dental")
    assert rmm.seen == []  # the request only wrote the outbox
    psa.settle()
    assert rmm.seen == [("client.created", "Acme Dental")]
