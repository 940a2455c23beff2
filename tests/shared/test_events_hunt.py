"""Events through outages, redeliveries and late arrivals: stories found by hunting defects in the
bus, its consumers and the read models they feed (docs/foundation.md, Events)."""

import dataclasses
import time
import uuid

import peewee
import pytest

from psa_shared import bus, events
from psa_shared.db import ServiceDatabase
from psa_shared.outbox import Inbox
from psa_tickets.database import db as tickets_db
from psa_tickets.database import outbox as tickets_outbox

from .test_bus import assert_vault_knows_client, client_created, dead_letters_of, side_inbox

NOBODY_LISTENS = "postgresql://psa@127.0.0.1:1/psa"  # a database server restarting: refused at once


def wait_for(condition, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_a_client_created_while_the_vaults_database_restarts_reaches_it_once_the_database_is_back(psa, tenant):
    """Acme Dental is taken on while the consuming service's database restarts. Every delivery
    fails on the missing database, not on the event: once the database is back, the event is
    applied, not dead-lettered (memory:// drops rejected messages) after five quick tries."""
    database = ServiceDatabase("test_outage")
    inbox = Inbox(database)
    database.bind(f"sqlite:///{psa.settings.data_dir / 'test-outage.db'}")
    database.create_tables()
    seen = []
    consumer = bus.Consumer(psa.settings, "test-outage", inbox, {"client.created": lambda e, p: seen.append(e.id)})
    with bus.connect(psa.settings) as connection:
        consumer.declare(connection)
    loop = bus.consumer_loop(consumer)
    loop.start()
    try:
        time.sleep(0.5)  # the worker is waiting for messages
        database.bind(NOBODY_LISTENS)
        event = client_created(psa, tenant.id)
        psa.service("tickets").relay(psa.settings).drain()
        time.sleep(1.5)  # the worker's loop meets the missing database, again and again
        assert seen == []
        database.bind(f"sqlite:///{psa.settings.data_dir / 'test-outage.db'}")
        assert wait_for(lambda: seen == [event.id]), "the event was dead-lettered during the outage"
    finally:
        loop.stop()
        loop.join(timeout=5)
        database.close()


def test_an_event_the_database_refuses_while_it_is_up_is_still_dead_lettered(psa, tenant):
    """Not every database error is an outage: a statement the database refuses for this event
    alone (too many ids for one query, say) fails on every delivery, and goes to the dead-letter
    queue after five, as any poison message does, instead of coming back forever."""
    refusals = []

    def refuses(event, payload):
        refusals.append(event.id)
        raise peewee.OperationalError("too many SQL variables")

    assert dead_letters_of(psa, tenant, "test-refused", refuses) == 1
    assert 1 <= len(refusals) <= bus.MAX_DELIVERIES


def test_an_event_that_failed_once_then_applied_leaves_no_count_behind(psa, tenant):
    """A consumer runs for months: an event that failed once (a lock timeout, say) and then
    applied must not stay in its count of failed deliveries for good."""
    tries = []

    def fails_once(event, payload):
        tries.append(event.id)
        if len(tries) == 1:
            raise RuntimeError("lock timeout")

    consumer = bus.Consumer(psa.settings, "test-fails-once", side_inbox(psa), {"client.created": fails_once})
    client_created(psa, tenant.id)
    with bus.connect(psa.settings) as connection:
        consumer.declare(connection)
        psa.settle()
        consumer.consume(connection, until_idle=1.0)
    assert len(tries) == 2 and consumer.applied == 1
    assert not consumer.attempts


def test_clients_added_just_before_psa_serve_stops_all_reach_the_vault(psa, tenant):
    """The office manager adds the practice's clients in `psa serve` and stops it right after
    (Ctrl-C). The relay had published their events to memory://, whose queues die with the
    process, and the outbox holds them as sent: the vault must apply them before the workers stop,
    or it never learns of those clients."""
    if psa.backend != "embedded":
        pytest.skip("RabbitMQ keeps what is queued for the next start")
    psa.start_workers()
    made = [tenant.api.post("/api/v1/clients", json={"name": f"Practice {i}"}) for i in range(20)]
    assert [r.status_code for r in made] == [201] * 20
    psa.stop_workers()
    with tickets_db.proxy.connection_context():
        assert tickets_outbox.pending_count() == 0  # every event left the outbox: the queue has it
    for response in made:
        assert_vault_knows_client(psa, tenant, response.json["id"])


def test_a_newer_vault_naming_more_per_client_still_gets_its_rotation_tickets_opened(psa, tenant):
    """The vault is upgraded first, and its `vault.rotation_required` now says, for each client,
    when Tom last revealed a password there. The tickets service, one version behind, reads what
    it knows and drops the rest, inside the list of clients too: the rotation ticket opens (the
    event was refused on the unknown field, five times, then dead-lettered)."""
    dental = tenant.client("Dental")
    tom = tenant.member("technician", all_clients=True)
    credential = str(uuid.uuid4())
    current = events.build(
        "vault.rotation_required",
        tenant.id,
        {
            "member_id": tom.id,
            "member_name": "Tom Tech",
            "clients": [{"client_id": dental["id"], "credential_ids": [credential], "attachments": []}],
        },
    )
    client = {**current.payload["clients"][0], "last_revealed_at": "2026-11-20T16:00:00Z"}
    newer = dataclasses.replace(current, payload={**current.payload, "clients": [client]})
    tickets = next(c for c in psa.consumers() if c.service == "tickets")
    assert tickets.apply(newer)
    summaries = [
        t["summary"] for t in tenant.api.get("/api/v1/tickets", query_string={"client_id": dental["id"]}).json["items"]
    ]
    assert summaries == ["Rotate 1 credential (staff change)"]
