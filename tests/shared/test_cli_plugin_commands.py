"""A plugin's `psa` command runs with the tickets service bound, as `psa_tickets.plugin_api`
needs, and binds it only once it runs."""

from __future__ import annotations

import uuid

import click
import pytest

from psa_shared.plugins import hookimpl, register_plugin, unregister_plugin
from psa_tickets import plugin_api
from psa_tickets.database import db as tickets_db

from .test_cli_startup_errors import environment, no_running_worker, psa_cli  # noqa: F401


class SettingsReader:
    @hookimpl
    def psa_register_cli_commands(self, cli):
        @cli.command("opsfix-settings")
        def show():
            """Print a tenant's settings for this plugin."""
            click.echo(repr(plugin_api.tenant_settings(uuid.uuid4(), "opsfix_reader")))


@pytest.fixture
def unbound(monkeypatch):
    """The tickets database unbound, as in a fresh `psa` process (restored after the test)."""
    monkeypatch.setattr(tickets_db.proxy, "obj", None)
    register_plugin(SettingsReader(), "opsfix_reader")
    yield
    unregister_plugin("opsfix_reader")


def test_a_plugin_command_reads_the_tickets_database_through_the_plugin_api(unbound):
    result = psa_cli("opsfix-settings")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert tickets_db.bound


def test_listing_the_plugin_commands_binds_no_database(unbound):
    result = psa_cli("--help")
    assert result.exit_code == 0 and "opsfix-settings" in result.output
    assert not tickets_db.bound
