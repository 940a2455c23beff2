"""`make run`'s dead letters outlive the process. Tom is offboarded; the vault's
`vault.rotation_required` reaches the tickets service, which fails on it five times (this
release's ticket creation is broken). The event is stored in the tickets database, is still there
after `make run` is stopped and started again on the same data dir, is listed by `psa events
dead-letters`, and once the fix is deployed `psa events replay tickets` opens the rotation ticket,
once. Until 2026-11-27 memory://'s dead-letter queue held it: it ended with the process, the
watermark had moved past the event, and the rotation ticket never opened (found by QA)."""

import time
import uuid

import peewee
import pytest
from click.testing import CliRunner

from psa_shared import bus
from psa_shared.cli import build_cli
from psa_shared.config import Settings
from psa_shared.outbox import DeadLetters
from psa_shared.plugins import register_plugin, unregister_plugin
from psa_shared.tenancy import tenant_scope
from psa_shared.testing import PsaSystem
from psa_tickets import rotation

from .test_plugin_queues import AccountingSync, billing_publishes, deliver, listening, posted_invoice


@pytest.fixture(autouse=True)
def embedded(psa):
    if psa.backend != "embedded":
        pytest.skip("on RabbitMQ the dead-letter queues keep them (tests/shared/test_plugin_queues.py)")


@pytest.fixture
def broken_release(monkeypatch):
    """This release cannot open tickets; `broken_release.fix()` deploys the fix."""

    class Release:
        def fix(self):
            monkeypatch.setattr(rotation, "create_ticket", fixed)

    def broken(*args, **kwargs):
        raise RuntimeError("ticket numbering is broken in this release")

    fixed = rotation.create_ticket
    monkeypatch.setattr(rotation, "create_ticket", broken)
    return Release()


@pytest.fixture
def accounting():
    """The accounting sync, refusing at every try until its `failures` are set (the key fixed)."""
    register_plugin(sync := AccountingSync(), "accounting-sync")
    yield sync
    unregister_plugin("accounting-sync")


def tom_offboarded(psa, tenant, client_id):
    """The vault reports the credentials Tom saw at the client (through its outbox, as it does)."""
    vault = psa.service("docs_vault")
    payload = {
        "member_id": str(uuid.uuid4()),
        "member_name": "Tom Tech",
        "clients": [{"client_id": client_id, "credential_ids": [str(uuid.uuid4())], "attachments": []}],
    }
    with vault.db.proxy.connection_context(), tenant_scope(tenant.id), vault.db.proxy.atomic():
        return vault.outbox.emit("vault.rotation_required", payload)


def wait_for(check, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.05)


def serve_until_dead_lettered(psa) -> None:
    """`make run` until the tickets consumer gave up on an event, then Ctrl-C (the watermark moves
    past it)."""
    psa.start_workers()
    try:
        wait_for(lambda: next(c for c in psa.consuming if c.name == "tickets").dead_lettered == 1)
    finally:
        psa.stop_workers()


def run_again(monkeypatch) -> None:
    """`make run` again on the same data dir, and Ctrl-C: memory:// starts empty (here, queues of
    a new prefix: memory:// lives as long as the test process), and the watermark relays again
    only what the last run might not have applied."""
    monkeypatch.setenv("PSA_BUS_PREFIX", f"test-{uuid.uuid4().hex[:8]}.")
    again = PsaSystem(Settings.from_env(), "embedded").bind()
    again.start_workers()
    try:
        time.sleep(0.5)
    finally:
        again.stop_workers()


def psa_command(*args: str):
    return CliRunner().invoke(build_cli(), list(args), prog_name="psa")


def dead_letter_counts() -> dict[str, str]:
    listed = psa_command("events", "dead-letters")
    assert listed.exit_code == 0, listed.output
    return dict(line.split(": ") for line in listed.output.splitlines())


def rotation_tickets(tenant, client_id) -> list[str]:
    items = tenant.api.get("/api/v1/tickets", query_string={"client_id": client_id}).json["items"]
    return [t["summary"] for t in items]


def stored(psa, consumer: str) -> list:
    """`consumer`'s dead letters in the tickets database, oldest first."""
    return psa.service("tickets").inbox.dead_letters.oldest(consumer)


def in_inbox(psa, key) -> bool:
    tickets = psa.service("tickets")
    with tickets.db.proxy.connection_context():
        return tickets.inbox.model.select().where(tickets.inbox.model.id == key).exists()


def test_a_rotation_event_failing_five_times_survives_a_restart_and_is_replayed_once(
    psa, tenant, broken_release, monkeypatch
):
    dental = tenant.client("Harbour Dental")
    event = tom_offboarded(psa, tenant, dental["id"])
    serve_until_dead_lettered(psa)

    broken_release.fix()
    run_again(monkeypatch)
    assert rotation_tickets(tenant, dental["id"]) == []  # the bus does not bring it back
    assert dead_letter_counts()["tickets"] == "1"  # the dead letter does
    (letter,) = stored(psa, "tickets")
    assert (letter.type, letter.message_id) == ("vault.rotation_required", event.id)
    assert "ticket numbering is broken" in letter.error

    replayed = psa_command("events", "replay", "tickets")
    assert (replayed.exit_code, replayed.output) == (0, "tickets: 1 dead letters applied\n")
    assert rotation_tickets(tenant, dental["id"]) == ["Rotate 1 credential (staff change)"]
    assert in_inbox(psa, uuid.UUID(event.id))
    assert stored(psa, "tickets") == [] and dead_letter_counts()["tickets"] == "0"

    again = psa_command("events", "replay", "tickets")
    assert again.output == "tickets: 0 dead letters applied\n"
    assert len(rotation_tickets(tenant, dental["id"])) == 1


def test_a_dead_letter_that_fails_again_on_replay_stays_stored(psa, tenant, broken_release):
    """The MSP replays before the fix is deployed: it fails again, is kept, and the command says so."""
    dental, law = tenant.client("Harbour Dental"), tenant.client("Law firm")
    first, second = tom_offboarded(psa, tenant, dental["id"]), tom_offboarded(psa, tenant, law["id"])
    psa.settle()
    assert dead_letter_counts()["tickets"] == "2"
    assert [letter.message_id for letter in stored(psa, "tickets")] == [first.id, second.id]

    replayed = psa_command("events", "replay", "tickets", "--limit", "1")
    assert replayed.exit_code == 1
    assert f"vault.rotation_required {first.id}: RuntimeError: ticket numbering is broken" in replayed.output
    assert "failed again: still stored" in replayed.output
    assert dead_letter_counts()["tickets"] == "2"
    assert rotation_tickets(tenant, dental["id"]) == []

    broken_release.fix()
    replayed = psa_command("events", "replay", "tickets", "--limit", "1")  # oldest first
    assert (replayed.exit_code, replayed.output) == (0, "tickets: 1 dead letters applied\n")
    assert len(rotation_tickets(tenant, dental["id"])) == 1 and rotation_tickets(tenant, law["id"]) == []
    assert [letter.message_id for letter in stored(psa, "tickets")] == [second.id]


def test_the_msp_reads_which_events_failed_and_why_before_replaying(psa, tenant, broken_release):
    """Until 2026-11-28 `psa events dead-letters` only counted them; the why was in a log."""
    event = tom_offboarded(psa, tenant, tenant.client("Harbour Dental")["id"])
    psa.settle()
    listed = psa_command("events", "dead-letters", "--list")
    assert listed.exit_code == 0, listed.output
    (line,) = [line for line in listed.output.splitlines() if event.id in line]
    why = "RuntimeError: ticket numbering is broken in this release"
    assert line.startswith("  ") and line.endswith(f" UTC vault.rotation_required {event.id} tenant {tenant.id}: {why}")
    assert dead_letter_counts()["tickets"] == "1"  # looking took nothing


def test_an_accounting_sync_dead_letter_is_stored_on_the_tickets_database_and_replayed_to_the_plugin(
    psa, tenant, accounting
):
    """The accounting system refuses the sync's key at every try; the MSP fixes the key."""
    consumers = listening(psa)
    invoice, entry = posted_invoice(tenant)
    billing_publishes(psa, invoice)
    deliver(psa, consumers)
    assert accounting.tries == bus.MAX_DELIVERIES and tenant.api.get(entry).json["billed_invoice_id"]
    counts = dead_letter_counts()
    assert (counts["plugin.accounting-sync"], counts["tickets"]) == ("1", "0")
    (letter,) = stored(psa, "plugin.accounting-sync")
    assert letter.message_id == invoice.id

    accounting.failures = accounting.tries  # the key fixed
    replayed = psa_command("events", "replay", "plugin.accounting-sync")
    assert (replayed.exit_code, replayed.output) == (0, "plugin.accounting-sync: 1 dead letters applied\n")
    assert accounting.synced == [invoice.id]
    assert in_inbox(psa, uuid.uuid5(uuid.UUID(invoice.id), "plugin.accounting-sync"))
    assert stored(psa, "plugin.accounting-sync") == []


def test_a_dead_letter_the_database_cannot_store_at_once_stays_on_the_queue_until_it_can(
    psa, tenant, broken_release, monkeypatch
):
    """The disk is full at the moment the event is given up on: it is not acked (memory:// would
    drop it), and once the write goes through it is stored."""
    refusals = []
    keep = DeadLetters.keep

    def disk_full_once(self, *args):
        if not refusals:
            refusals.append(args[1])
            raise peewee.OperationalError("database or disk is full")
        keep(self, *args)

    monkeypatch.setattr(DeadLetters, "keep", disk_full_once)
    event = tom_offboarded(psa, tenant, tenant.client("Harbour Dental")["id"])
    serve_until_dead_lettered(psa)
    assert refusals == [event.id]
    assert [letter.message_id for letter in stored(psa, "tickets")] == [event.id]
