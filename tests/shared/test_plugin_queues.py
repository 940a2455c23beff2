"""A queue per plugin: billing posts an invoice, the tickets service marks its time entries billed
whatever the plugins listening for `invoice.posted` do. The MSP's accounting sync fails on it (the
accounting system refuses its API key): the invoice waits in that plugin's own dead-letter queue,
the entries are billed and refuse edits, and the KPI dashboard hears of the invoice once."""

import threading
import uuid

import pytest
from click.testing import CliRunner

from psa_shared import bus, events
from psa_shared.cli import build_cli
from psa_shared.plugins import hookimpl

from ..tickets.test_service_desk import log, open_ticket


class AccountingSync:
    """Pushes posted invoices to the accounting system; fails `failures` times (None: for good)."""

    def __init__(self, failures: int | None = None):
        self.failures, self.tries, self.synced = failures, 0, []

    @hookimpl
    def psa_event_types(self):
        return ["invoice.posted"]

    @hookimpl
    def psa_on_event(self, event, payload):
        self.tries += 1
        if self.failures is None or self.tries <= self.failures:
            raise ConnectionError("the accounting system refuses the API key")
        self.synced.append(event.id)


class KpiDashboard:
    """Counts posted invoices on the MSP's wall screen."""

    def __init__(self):
        self.seen = []

    @hookimpl
    def psa_event_types(self):
        return ["invoice.posted"]

    @hookimpl
    def psa_on_event(self, event, payload):
        self.seen.append(event.id)


def listening(psa) -> list[bus.Consumer]:
    """The tickets worker's consumers, their queues declared (so nothing published is dropped)."""
    consumers = psa.consumers()
    with bus.connect(psa.settings) as connection:
        for consumer in consumers:
            consumer.declare(connection)
    return consumers


def deliver(psa, consumers: list[bus.Consumer]) -> None:
    """Each consumer applies what its queue holds, failures retried until dead-lettered."""
    with bus.connect(psa.settings) as connection:
        for consumer in consumers:
            consumer.consume(connection, until_idle=0.2 if psa.backend == "embedded" else 0.5)


def billing_publishes(psa, event: events.Event) -> None:
    """Billing's relay publishes `event` on billing's exchange (twice, when it crashed in between)."""
    exchange = bus.exchange(psa.settings, "billing")
    with bus.connect(psa.settings) as connection:
        connection.Producer(serializer="json").publish(
            event.to_json(),
            exchange=exchange,
            routing_key=event.type,
            declare=[exchange],
            delivery_mode=2,
            content_type="application/json",
            content_encoding="utf-8",
            message_id=event.id,
            headers={"psa-tenant": event.tenant_id},
        )


def posted_invoice(tenant) -> tuple[events.Event, str]:
    """A client's hour of work logged, and billing's `invoice.posted` for it; and the entry's path."""
    client = tenant.client("Harbour Dental")
    ticket = open_ticket(tenant.api, client["id"])
    entry = log(tenant.api, ticket["id"], minutes=60, notes="Replaced the firewall").json
    payload = {"invoice_id": str(uuid.uuid4()), "number": "INV-2026-0042", "client_id": client["id"],
               "time_entry_ids": [entry["id"]], "total": "120.00", "currency": "USD"}  # fmt: skip
    path = f"/api/v1/tickets/{ticket['id']}/time-entries/{entry['id']}"
    return events.build("invoice.posted", tenant.id, payload), path


def waiting_in(psa, consumer: str, dead: bool = False) -> int:
    """How many messages `<prefix><consumer>.events` (or its `.dlq`) holds (declared if it was not);
    in embedded mode its dead letters are stored in its database (`bus.dead_letters`)."""
    if dead and psa.settings.embedded:
        return bus.dead_letters(next(c for c in psa.consumers() if c.name == consumer))
    with bus.connect(psa.settings) as connection:
        queue = bus.queues_for(psa.settings, consumer, [])[1 if dead else 0]
        return queue.bind(connection.default_channel).queue_declare().message_count


def test_an_accounting_sync_failing_for_good_no_longer_keeps_the_entries_from_being_billed(psa, tenant, plugins):
    """Until 2026-11-27 the plugins ran in the tickets consumer's transaction: the sync's failure
    rolled the billing back, the invoice was retried and dead-lettered with it, and the entries
    stayed editable; every retry showed the invoice to the dashboard once more."""
    accounting = plugins(AccountingSync(), "accounting-sync")
    dashboard = plugins(KpiDashboard(), "kpi-dashboard")
    consumers = listening(psa)
    invoice, entry = posted_invoice(tenant)
    billing_publishes(psa, invoice)
    deliver(psa, consumers)

    assert tenant.api.patch(entry, json={"minutes": 1}).status_code == 409  # billed: refuses edits
    assert tenant.api.get(entry).json["billed_invoice_id"] == invoice.payload["invoice_id"]
    assert accounting.tries == bus.MAX_DELIVERIES
    assert waiting_in(psa, "plugin.accounting-sync", dead=True) == 1  # kept for the MSP to replay
    assert waiting_in(psa, "plugin.accounting-sync") == 0
    assert waiting_in(psa, "tickets", dead=True) == 0
    assert dashboard.seen == [invoice.id]


def test_a_redelivered_invoice_is_applied_once_per_plugin(psa, tenant, plugins):
    """The sync fails once (the accounting system restarting) and syncs on the retry; billing's
    relay, crashed before it marked the row sent, publishes the invoice a second time. Each
    plugin and the tickets service apply it once: their inbox records are their own."""
    accounting = plugins(AccountingSync(failures=1), "accounting-sync")
    dashboard = plugins(KpiDashboard(), "kpi-dashboard")
    consumers = listening(psa)
    invoice, entry = posted_invoice(tenant)
    billing_publishes(psa, invoice)
    deliver(psa, consumers)
    billing_publishes(psa, invoice)
    deliver(psa, consumers)

    assert accounting.synced == [invoice.id] and accounting.tries == 2
    assert dashboard.seen == [invoice.id]  # not shown again when the sync was retried
    assert tenant.api.patch(entry, json={"minutes": 1}).status_code == 409
    applied = {consumer.queues[0].name: (consumer.applied, consumer.duplicates) for consumer in consumers}
    prefix = psa.settings.bus_prefix
    assert applied[f"{prefix}tickets.events"] == (1, 1)
    assert applied[f"{prefix}plugin.accounting-sync.events"] == (1, 1)
    assert applied[f"{prefix}plugin.kpi-dashboard.events"] == (1, 1)


# Once the cause is fixed, the MSP puts the dead letters back (`psa events replay`).


def dead_lettered_invoice(psa, tenant, plugins) -> tuple[AccountingSync, list[bus.Consumer], events.Event]:
    """The accounting system refused the key at every try: the invoice is in the sync's dead
    letters. Then the MSP fixes the key."""
    accounting = plugins(AccountingSync(), "accounting-sync")
    consumers = listening(psa)
    with bus.connect(psa.settings) as connection:  # the tests before left theirs (one broker, one prefix)
        bus.queues_for(psa.settings, "plugin.accounting-sync", [])[1].bind(connection.default_channel).purge()
    invoice, _ = posted_invoice(tenant)
    billing_publishes(psa, invoice)
    deliver(psa, consumers)
    assert accounting.synced == [] and waiting_in(psa, "plugin.accounting-sync", dead=True) == 1
    accounting.failures = accounting.tries  # the key fixed: no try from now on fails
    return accounting, consumers, invoice


def test_once_the_accounting_key_is_fixed_the_dead_invoice_is_replayed_and_syncs(psa, tenant, plugins):
    accounting, consumers, invoice = dead_lettered_invoice(psa, tenant, plugins)
    sync = next(consumer for consumer in consumers if consumer.name == "plugin.accounting-sync")

    assert bus.replay_dead_letters(sync) == 1
    deliver(psa, consumers)

    assert accounting.synced == [invoice.id]
    assert waiting_in(psa, "plugin.accounting-sync", dead=True) == 0
    assert bus.replay_dead_letters(sync) == 0


def test_psa_events_lists_each_consumers_dead_letters_and_replays_one_of_them(psa, tenant, plugins, monkeypatch):
    if psa.backend != "real":
        pytest.skip("embedded mode's command applies them itself: tests/shared/test_embedded_dead_letters.py")
    accounting, consumers, invoice = dead_lettered_invoice(psa, tenant, plugins)
    monkeypatch.setenv("PSA_BROKER_URL", psa.settings.broker_url)
    monkeypatch.setenv("PSA_BUS_PREFIX", psa.settings.bus_prefix)

    listed = psa_command("events", "dead-letters")
    assert listed.exit_code == 0, listed.output
    counts = dict(line.split(": ") for line in listed.output.splitlines())
    assert counts["plugin.accounting-sync"] == "1" and {"tickets", "docs_vault"} <= counts.keys()
    shown = psa_command("events", "dead-letters", "--list").output.splitlines()
    (line,) = [line for line in shown if invoice.id in line]
    assert f"invoice.posted {invoice.id} tenant {tenant.id}: rejected after its last delivery" in line
    assert " UTC " in line  # when RabbitMQ dead-lettered it
    assert psa_command("events", "dead-letters").output == listed.output  # looking took nothing
    unknown = psa_command("events", "replay", "plugin.acounting-sync")
    assert unknown.exit_code == 2 and "plugin.accounting-sync" in unknown.output  # the names it has
    replayed = psa_command("events", "replay", "plugin.accounting-sync")
    assert replayed.output == "plugin.accounting-sync: 1 dead letters put back on its queue\n"

    deliver(psa, consumers)
    assert accounting.synced == [invoice.id]


def psa_command(*args: str):
    return CliRunner().invoke(build_cli(), list(args), prog_name="psa")


class NewTicketsBoard(KpiDashboard):
    """Shows each new ticket on the wall screen."""

    @hookimpl
    def psa_event_types(self):
        return ["ticket.created"]


def test_a_plugins_type_bound_to_the_tickets_queue_before_the_upgrade_is_unbound(psa, plugins):
    """Before plugins had queues of their own, `ticket.created` was bound to the tickets queue for
    the wall screen; left there, every new ticket went to the tickets worker only to be dropped."""
    plugins(NewTicketsBoard(), "new-tickets-board")
    exchange = bus.exchange(psa.settings, "tickets")
    with bus.connect(psa.settings) as connection:
        before = bus.queues_for(psa.settings, "tickets", ["ticket.created"])[0].bind(connection.default_channel)
        before.declare()
        before.purge()
    listening(psa)  # the upgraded worker starts

    with bus.connect(psa.settings) as connection:  # a ticket is opened (only the routing matters here)
        connection.Producer().publish("{}", exchange=exchange, routing_key="ticket.created", declare=[exchange])
    assert waiting_in(psa, "tickets") == 0
    assert waiting_in(psa, "plugin.new-tickets-board") >= 1


class SlowAccountingSync:
    """The accounting system takes its time over each invoice; a tech saves a ticket meanwhile."""

    def __init__(self, tenant, client_id: str):
        self.tenant, self.client_id, self.saved_meanwhile = tenant, client_id, None

    @hookimpl
    def psa_event_types(self):
        return ["invoice.posted"]

    @hookimpl
    def psa_on_event(self, event, payload):
        saved = []
        body = {"client_id": self.client_id, "summary": "Printer jams"}
        tech = threading.Thread(target=lambda: saved.append(self.tenant.api.post("/api/v1/tickets", json=body)))
        tech.start()
        tech.join(timeout=20)  # the accounting API answering, at last
        self.saved_meanwhile = [response.status_code for response in saved]


def test_a_slow_accounting_sync_does_not_hold_up_a_ticket_saved_meanwhile(psa, tenant, plugins):
    """Until 2026-11-27 a plugin ran inside a transaction of the tickets database, which on SQLite
    holds the one writer's turn: every ticket save waited for the accounting system to answer."""
    invoice, _ = posted_invoice(tenant)
    accounting = plugins(SlowAccountingSync(tenant, invoice.payload["client_id"]), "accounting-sync")
    consumers = listening(psa)
    billing_publishes(psa, invoice)
    deliver(psa, consumers)

    assert accounting.saved_meanwhile == [201]
    sync = next(consumer for consumer in consumers if consumer.name == "plugin.accounting-sync")
    assert (sync.applied, sync.dead_lettered) == (1, 0)
