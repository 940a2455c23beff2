"""A plugin's events are kept from the first one relayed, whichever worker starts first: a
plugin declares the event types it consumes in its distribution's metadata (entry-point group
`psa.event_types`), which every worker reads, without importing the plugin, and binds."""

import dataclasses
import sys
import textwrap
import time
import uuid

import pytest

from psa_shared import bus
from psa_shared.plugins import declared_event_types
from psa_shared.runtime import System

from ..vault.credentials_kit import store

PLUGIN = "psa_test_accounting_sync"  # the plugin's module: imported only where plugins may run


@pytest.fixture
def accounting_sync(tmp_path, monkeypatch):
    """A partner's accounting sync, installed as a distribution is: its module and its dist-info
    (entry points `psa` and `psa.event_types`) on sys.path. It wants `credential.created`, which
    only the vault produces and no built-in handler consumes (and misspells one more type)."""
    site = tmp_path / "site"
    (site / f"{PLUGIN}-1.0.dist-info").mkdir(parents=True)
    (site / f"{PLUGIN}-1.0.dist-info" / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {PLUGIN}\nVersion: 1.0\n")
    (site / f"{PLUGIN}-1.0.dist-info" / "entry_points.txt").write_text(
        f"[psa]\naccounting-sync = {PLUGIN}\n\n[psa.event_types]\ncredential.created = {PLUGIN}\n"
        f"credential.shredded = {PLUGIN}\n"  # a typo: no service produces it
    )
    (site / f"{PLUGIN}.py").write_text(
        textwrap.dedent(
            """
            from psa_shared.plugins import hookimpl

            seen = []

            @hookimpl
            def psa_event_types():
                return ["credential.created"]

            @hookimpl
            def psa_on_event(event, payload):
                seen.append(payload["name"])
            """
        )
    )
    monkeypatch.syspath_prepend(str(site))
    yield
    sys.modules.pop(PLUGIN, None)


def _drained(service, seconds: float = 10.0) -> None:
    with service.db.proxy.connection_context():
        deadline = time.monotonic() + seconds
        while service.outbox.pending_count() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert service.outbox.pending_count() == 0  # relayed, and marked sent


def _vault_relays_then_tickets_worker_starts(psa, tenant, request, fresh) -> dict[str, bus.Consumer]:
    """The vault's worker relays a `credential.created` on a fresh broker and stops; then the
    tickets worker declares its queues and applies what they hold. Returns its consumers, by
    name: the service's own (`tickets`) and the plugin's (`plugin.accounting-sync`)."""
    client = tenant.client("Riverside Law")
    psa.settle()  # the vault knows the tenant's members and this client
    request.getfixturevalue("accounting_sync")  # installed now: the fixture's own workers never saw it
    vault_worker = System(fresh, [psa.service("docs_vault")])
    vault_worker.start_workers()
    try:
        store(tenant.api, client["id"], name="Firewall admin")
        _drained(psa.service("docs_vault"))
    finally:
        vault_worker.stop_workers()
    assert PLUGIN not in sys.modules  # the vault's worker ran no plugin code
    tickets_worker = System(fresh, [psa.service("tickets")])
    tickets_worker.declare_queues()
    consumers = {c.name: c for c in tickets_worker.consumers()}  # the plugin loads here, if allowed
    assert sorted(consumers) == ["plugin.accounting-sync", "tickets"]  # its queue: named by its metadata
    with bus.connect(fresh) as connection:
        for consumer in consumers.values():
            consumer.consume(connection, until_idle=0.5 if psa.backend == "embedded" else 1.0)
    return consumers


@pytest.fixture
def fresh(psa):
    """A bus namespace no worker has declared anything in yet; its queues go with the test."""
    settings = dataclasses.replace(psa.settings, bus_prefix=f"test-{uuid.uuid4().hex[:8]}.")
    yield settings
    with bus.connect(settings) as connection:
        for name in [service.name for service in psa.services] + ["plugin.accounting-sync"]:
            for queue in bus.queues_for(settings, name, []):
                queue.bind(connection.default_channel).delete()


def test_a_plugin_hears_a_vault_event_relayed_before_its_worker_ever_ran(psa, tenant, request, fresh):
    """Fresh broker: `psa worker docs_vault` starts, a technician stores the firewall password,
    the vault relays its `credential.created`; only then does `psa worker tickets`, where the
    accounting sync runs, start for the first time. Until 2026-11-27 the vault's worker bound the
    tickets queue for the tickets service's own handlers' types alone: RabbitMQ dropped the event
    (no queue bound to it), the outbox held it as sent, and the plugin never heard of it."""
    consumers = _vault_relays_then_tickets_worker_starts(psa, tenant, request, fresh)
    assert sys.modules[PLUGIN].seen == ["Firewall admin"]
    assert consumers["plugin.accounting-sync"].applied == 1 and consumers["tickets"].applied == 0
    assert declared_event_types() == ["credential.created"]  # the misspelt type is left out, logged


def test_an_event_bound_for_a_plugin_blocked_in_the_tickets_worker_is_dropped_not_dead_lettered(
    psa, tenant, request, fresh, monkeypatch
):
    """The vault binds what every installed plugin declares; the tickets worker blocks the sync
    (`PSA_DISABLED_PLUGINS`): the event reaches its queue, nobody there wants it, it is acked."""
    monkeypatch.setenv("PSA_DISABLED_PLUGINS", "accounting-sync")
    fresh = dataclasses.replace(fresh, disabled_plugins=("accounting-sync",))
    consumers = _vault_relays_then_tickets_worker_starts(psa, tenant, request, fresh)
    assert PLUGIN not in sys.modules and sum(c.applied for c in consumers.values()) == 0
    with bus.connect(fresh) as connection:
        for queue in [q for c in consumers.values() for q in c.queues]:  # neither waiting nor dead-lettered
            assert connection.default_channel.queue_declare(queue=queue.name, passive=True).message_count == 0
