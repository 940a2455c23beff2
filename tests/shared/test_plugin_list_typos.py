"""The MSP blocks its RMM plugin during the RMM vendor's outage, but types the distribution's name
(`acme-rmm`) for the entry point's (`acme_rmm`): the plugin keeps loading, and the start-up log
says why, naming the unknown name and the installed plugins' names. Until 2026-11-27 a name no
plugin had was ignored without a word, in either list."""

import logging

import pytest

from psa_shared.config import Settings
from psa_shared.plugins import hookimpl, plugin_manager, register_plugin, unregister_plugin
from psa_shared.plugins.manager import log


class AcmeRmm:
    @hookimpl
    def psa_register_cli_commands(self, cli):
        pass


@pytest.fixture
def acme_rmm():
    register_plugin(AcmeRmm(), "acme_rmm")
    yield
    unregister_plugin("acme_rmm")


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == log.name and r.levelno == logging.WARNING]


def test_misspelt_block_list_name_is_logged_with_the_installed_names(acme_rmm, caplog):
    caplog.set_level(logging.WARNING, logger=log.name)
    plugins = plugin_manager(Settings.from_env({"PSA_DISABLED_PLUGINS": "acme-rmm"}))
    assert plugins.get_plugin("acme_rmm") is not None  # behaviour unchanged: only told now
    (warning,) = warnings(caplog)
    assert "PSA_DISABLED_PLUGINS" in warning and "acme-rmm" in warning and "acme_rmm" in warning.split("(installed")[1]


def test_misspelt_allow_list_name_is_logged_with_the_installed_names(acme_rmm, caplog):
    caplog.set_level(logging.WARNING, logger=log.name)
    plugins = plugin_manager(Settings.from_env({"PSA_PLUGINS": "acme_rmm,kpi-dashboard"}))
    assert plugins.get_plugin("acme_rmm") is not None
    (warning,) = warnings(caplog)
    assert "PSA_PLUGINS" in warning and "kpi-dashboard" in warning and "acme_rmm" in warning.split("(installed")[1]


def test_names_every_plugin_has_are_not_warned_about(acme_rmm, caplog):
    caplog.set_level(logging.WARNING, logger=log.name)
    plugin_manager(Settings.from_env({"PSA_PLUGINS": "acme_rmm", "PSA_DISABLED_PLUGINS": "acme_rmm"}))
    assert warnings(caplog) == []
