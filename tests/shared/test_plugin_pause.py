"""Acme's RMM integration adds each new client to the MSP's RMM. The RMM starts refusing the
integration's key: Harbour Dental's `client.created` fails five times and waits in the plugin's
dead letters, and the MSP's admin pauses the integration (switches it off for the tenant) while the
key is sorted out. Replaying meanwhile keeps the dead letter; switched back on, the replay adds
Harbour Dental. Clients added while it was paused never reach it, even when a worker that was
stopped delivers them after the switch-on; nor does its own switch-off. Until 2026-11-28 the switch
was looked at when an event was delivered, not when it occurred: the paused tenant's replay deleted
the dead letter as applied, the plugin never called (found by QA)."""

import pytest
from click.testing import CliRunner

from psa_shared import bus
from psa_shared.cli import build_cli
from psa_shared.plugins import hookimpl

from .test_plugin_queues import waiting_in

PLUGIN, CONSUMER = "acme_rmm", "plugin.acme_rmm"


class AcmeRmm:
    """Adds each new client to the RMM; every try fails while `key_refused`."""

    def __init__(self, key_refused: bool = False):
        self.key_refused, self.tries, self.added = key_refused, 0, []

    @hookimpl
    def psa_event_types(self):
        return ["client.created"]

    @hookimpl
    def psa_on_event(self, event, payload):
        self.tries += 1
        if self.key_refused:
            raise PermissionError("the RMM refuses the integration's API key")
        self.added.append(payload["name"])


class AcmeRmmSwitches:
    """Starts a first sync of the tenant's clients when switched on: hears its settings change."""

    def __init__(self):
        self.heard = []

    @hookimpl
    def psa_event_types(self):
        return ["plugin.settings_changed"]

    @hookimpl
    def psa_on_event(self, event, payload):
        self.heard.append(payload["enabled"])


@pytest.fixture
def rmm(psa, plugins) -> AcmeRmm:
    rmm = plugins(AcmeRmm(), PLUGIN)
    with bus.connect(psa.settings) as connection:  # one broker per session: the tests before left theirs
        for queue in bus.queues_for(psa.settings, CONSUMER, []):
            queue.bind(connection.default_channel).declare()
            queue.bind(connection.default_channel).purge()
    return rmm


def switch(tenant, enabled: bool) -> None:
    response = tenant.api.put(f"/api/v1/settings/plugins/{PLUGIN}", json={"enabled": enabled, "settings": {}})
    assert response.status_code == 200, response.json


def replay(psa, monkeypatch) -> str:
    """`psa events replay plugin.acme_rmm`, and the worker taking what it put back (RabbitMQ)."""
    monkeypatch.setenv("PSA_BUS_PREFIX", psa.settings.bus_prefix)
    if psa.backend == "real":
        monkeypatch.setenv("PSA_BROKER_URL", psa.settings.broker_url)
    replayed = CliRunner().invoke(build_cli(), ["events", "replay", CONSUMER], prog_name="psa")
    assert replayed.exit_code == 0, replayed.output
    psa.settle()
    return replayed.output


def test_replaying_while_the_rmm_is_paused_keeps_harbour_dental_for_its_switch_on(psa, tenant, rmm, monkeypatch):
    rmm.key_refused = True
    dental = tenant.client("Harbour Dental")
    psa.settle()
    assert rmm.tries == bus.MAX_DELIVERIES and waiting_in(psa, CONSUMER, dead=True) == 1
    switch(tenant, False)

    replayed = replay(psa, monkeypatch)
    if psa.backend == "embedded":  # on RabbitMQ the worker puts it back into the dead letters
        (created,) = [e for e in psa.emitted("client.created") if e.payload["id"] == dental["id"]]
        assert replayed == (
            f"{CONSUMER}: 0 dead letters applied\n"
            f"{CONSUMER}: client.created {created.id}: plugin {PLUGIN} is switched off for tenant {tenant.id}"
            " (skipped: still stored, replayed once switched back on)\n"
        )
    assert rmm.tries == bus.MAX_DELIVERIES  # not called: the tenant paused it
    assert waiting_in(psa, CONSUMER, dead=True) == 1

    rmm.key_refused = False
    switch(tenant, True)
    replay(psa, monkeypatch)
    assert rmm.added == ["Harbour Dental"]
    assert waiting_in(psa, CONSUMER, dead=True) == 0


def test_clients_added_while_the_rmm_was_paused_never_reach_it_though_delivered_after_the_switch_on(psa, tenant, rmm):
    """The tickets worker is stopped meanwhile: it delivers everything once the RMM is on again."""
    tenant.client("Corner Bakery")
    switch(tenant, False)
    tenant.client("Harbour Dental")
    switch(tenant, True)
    tenant.client("Harbour Optics")
    psa.settle()

    assert rmm.added == ["Corner Bakery", "Harbour Optics"]  # the bakery came while it was on
    assert waiting_in(psa, CONSUMER, dead=True) == 0  # Harbour Dental: recorded as applied


def test_the_rmm_hears_its_switch_on_but_not_its_switch_off_delivered_after_it(psa, tenant, plugins):
    switches = plugins(AcmeRmmSwitches(), PLUGIN)
    switch(tenant, True)
    psa.settle()
    switch(tenant, False)
    switch(tenant, True)
    psa.settle()

    assert switches.heard == [True, True]
