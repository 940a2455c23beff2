"""A partner misspells a hook (`psa_on_ticket_created` for `psa_on_event`): `psa --help` says so in
one line naming the plugin and the hook, and fails, rather than ending in a pluggy traceback
(until 2026-11-27) or running without the hook."""

import pluggy
import pytest
from click.testing import CliRunner

from psa_shared.cli import build_cli
from psa_shared.config import Settings
from psa_shared.plugins import hookimpl, plugin_manager, register_plugin, unregister_plugin


class TicketAlerts:
    @hookimpl
    def psa_on_ticket_created(self, event, payload):  # no such hook: psa_on_event is
        pass


@pytest.fixture
def misspelt():
    register_plugin(TicketAlerts(), "ticket_alerts")
    yield
    unregister_plugin("ticket_alerts")


def test_psa_help_names_the_plugin_and_the_misspelt_hook_in_one_line(misspelt):
    result = CliRunner().invoke(build_cli(), ["--help"], prog_name="psa")
    assert result.exit_code != 0
    assert not isinstance(result.exception, pluggy.PluginValidationError)  # handled, not a traceback
    (line,) = result.output.strip().splitlines()
    assert "'ticket_alerts'" in line and "'psa_on_ticket_created'" in line and "psa_on_event" in line


def test_the_plugin_manager_still_refuses_it_at_start_up(misspelt):
    refused = "plugin 'ticket_alerts': unknown hook 'psa_on_ticket_created'"
    with pytest.raises(pluggy.PluginValidationError, match=refused):
        plugin_manager(Settings.from_env({}))
