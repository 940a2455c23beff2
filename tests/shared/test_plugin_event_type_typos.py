"""A partner's RMM plugin names `ticket.create` where it meant `ticket.created`: the tickets worker
logs the plugin and the type and starts without it, instead of dying on a bare KeyError (every
other plugin, and the service's own consumer, stopped with it)."""

import logging

from psa_shared.plugins import delivery, hookimpl, register_plugin, unregister_plugin


class RmmAlerts:
    @hookimpl
    def psa_event_types(self):
        return ["ticket.create", "ticket.created"]

    @hookimpl
    def psa_on_event(self, event, payload):
        pass


def test_a_misspelt_event_type_is_logged_naming_the_plugin_and_left_out(psa, caplog):
    register_plugin(RmmAlerts(), "rmm-alerts")
    try:
        with caplog.at_level(logging.WARNING, logger="psa_shared.plugins.delivery"):
            listener = next(x for x in delivery.listeners(psa.settings) if x.name == "rmm-alerts")
            consumers = {consumer.name for consumer in psa.consumers()}
    finally:
        unregister_plugin("rmm-alerts")
    assert listener.binds == {"ticket.created"} and set(listener.handlers) == {"ticket.created"}
    assert "plugin.rmm-alerts" in consumers
    assert any("rmm-alerts" in r.getMessage() and "ticket.create" in r.getMessage() for r in caplog.records)
