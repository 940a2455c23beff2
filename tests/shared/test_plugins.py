"""The plugin host: strict loading, allow- and block-lists, the CLI hook."""

import click
import pluggy
import pytest
from click.testing import CliRunner

from psa_shared.config import Settings
from psa_shared.plugins import hookimpl, plugin_manager, register_plugin, unregister_plugin


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


@pytest.fixture
def in_process():
    names = []

    def register(plugin, name):
        register_plugin(plugin, name)
        names.append(name)

    yield register
    for name in names:
        unregister_plugin(name)


def test_misspelt_hook_fails_at_start_up(in_process):
    in_process(MisspeltPlugin(), "typo")
    with pytest.raises(pluggy.PluginValidationError):
        plugin_manager(Settings.from_env({}))


def test_plugin_adds_a_cli_command(in_process):
    in_process(RmmPlugin(), "rmm")
    group = click.Group("psa")
    plugin_manager(Settings.from_env({})).hook.psa_register_cli_commands(cli=group)
    assert CliRunner().invoke(group, ["rmm-sync"]).output == "synced\n"


def test_allow_and_block_lists_decide_what_loads(in_process):
    in_process(RmmPlugin(), "rmm")
    assert plugin_manager(Settings.from_env({"PSA_PLUGINS": "other"})).get_plugin("rmm") is None
    assert plugin_manager(Settings.from_env({"PSA_DISABLED_PLUGINS": "rmm"})).get_plugin("rmm") is None
    assert plugin_manager(Settings.from_env({})).get_plugin("rmm") is not None


def test_secret_holding_services_load_only_allow_listed_plugins(in_process):
    in_process(RmmPlugin(), "rmm")
    assert plugin_manager(Settings.from_env({}), allow_list_only=True).get_plugin("rmm") is None
    allowed = Settings.from_env({"PSA_PLUGINS": "rmm"})
    assert plugin_manager(allowed, allow_list_only=True).get_plugin("rmm") is not None
