"""The MSP blocks its accounting sync in the tickets worker during the accounting system's outage:
the events bound for the sync are dropped there, and the warning says why, naming the plugin and
the lists that keep it from loading (until 2026-11-27 it said "no handler for ... here", and an
operator who had misspelt the name in `PSA_PLUGINS` could not tell that from a bug)."""

import dataclasses
import logging

from . import test_plugin_bindings as bindings

accounting_sync, fresh = bindings.accounting_sync, bindings.fresh  # the fixtures, used here too


def test_an_event_dropped_for_a_blocked_plugin_names_the_plugin_and_why(
    psa, tenant, request, fresh, monkeypatch, caplog
):
    monkeypatch.setenv("PSA_DISABLED_PLUGINS", "accounting-sync")
    fresh = dataclasses.replace(fresh, disabled_plugins=("accounting-sync",))
    caplog.set_level(logging.WARNING, logger="psa_shared.bus")
    bindings._vault_relays_then_tickets_worker_starts(psa, tenant, request, fresh)
    (dropped,) = [r.getMessage() for r in caplog.records if r.name == "psa_shared.bus" and "dropped" in r.getMessage()]
    assert dropped.startswith("plugin.accounting-sync: credential.created ")
    assert "plugin accounting-sync is not loaded in this process" in dropped
    assert "PSA_DISABLED_PLUGINS" in dropped and "PSA_PLUGINS" in dropped
