"""Events are never lost and never applied twice: outbox, relay, inbox, dead letters."""

import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from psa_shared import bus, events
from psa_shared.config import Settings
from psa_shared.db import ServiceDatabase
from psa_shared.outbox import Inbox
from psa_shared.tenancy import tenant_scope
from psa_tickets.database import db as tickets_db
from psa_tickets.database import outbox as tickets_outbox
from psa_tickets.directory.models import Client


class Boom(Exception):
    pass


def client_created(psa, tenant_id, name="Acme Dental"):
    """Write a client and its event in one transaction, as the API does."""
    with tickets_db.proxy.connection_context(), tenant_scope(tenant_id), tickets_db.proxy.atomic():
        row = Client.create(number=99, name=name)
        return tickets_outbox.emit(
            "client.created",
            {"id": row.id, "name": name, "number": 99, "active": True, "updated_at": "2026-11-25T10:00:00Z"},
        )


def side_inbox(psa) -> Inbox:
    """A consumer of our own, with its own inbox database, beside the services under test."""
    database = ServiceDatabase("test_consumer")
    inbox = Inbox(database)
    database.bind(f"sqlite:///{psa.settings.data_dir / 'test-consumer.db'}")
    database.create_tables()
    return inbox


def counting_consumer(psa, seen: list) -> bus.Consumer:
    handlers = {"client.created": lambda e, p: seen.append(e.id)}
    return bus.Consumer(psa.settings, "test-counter", side_inbox(psa), handlers)


def test_event_of_a_rolled_back_change_is_never_published(psa, tenant):
    seen = []
    consumer = counting_consumer(psa, seen)
    with pytest.raises(Boom), tickets_db.proxy.connection_context(), tenant_scope(tenant.id), tickets_db.proxy.atomic():
        tickets_outbox.emit(
            "client.created",
            {
                "id": "01a213de-6a3c-7977-86ce-ff7916166895",
                "name": "Ghost",
                "number": 7,
                "active": True,
                "updated_at": "2026-11-25T10:00:00Z",
            },
        )
        raise Boom
    with bus.connect(psa.settings) as connection:
        consumer.declare(connection)
        psa.settle()
        consumer.consume(connection, until_idle=0.3)
    assert seen == []
    with tickets_db.proxy.connection_context():
        assert tickets_outbox.model.select().where(tickets_outbox.model.type == "client.created").count() == 0


def test_emit_outside_a_transaction_is_refused(psa, tenant):
    from psa_shared.outbox import NotInTransaction

    with pytest.raises(NotInTransaction), tickets_db.proxy.connection_context(), tenant_scope(tenant.id):
        tickets_outbox.emit("tenant.created", {"id": tenant.id, "name": "x", "time_zone": "UTC"})


def test_redelivered_event_is_applied_once(psa, tenant):
    seen = []
    consumer = counting_consumer(psa, seen)
    event = client_created(psa, tenant.id)
    with bus.connect(psa.settings) as connection:
        consumer.declare(connection)
        psa.settle()
        # The relay crashed after publishing but before marking the row: it publishes again.
        with tickets_db.proxy.connection_context():
            tickets_outbox.model.update(published_at=None).execute()
        psa.settle()
        consumer.consume(connection, until_idle=0.3)
    assert seen == [event.id]
    assert consumer.duplicates == 1


def test_writes_succeed_while_the_broker_is_unreachable_and_flow_once_it_is_back(psa, tenant):
    down = Settings.from_env(broker_url="amqp://guest:guest@127.0.0.1:1//")  # nothing listens on port 1
    created = tenant.api.post("/api/v1/clients", json={"name": "Written while down"})
    assert created.status_code == 201
    with pytest.raises(bus.BROKER_ERRORS):
        bus.Relay(down, tickets_outbox, "tickets").relay_once()
    with tickets_db.proxy.connection_context():
        assert tickets_outbox.pending_count() > 0
    psa.settle()
    with tickets_db.proxy.connection_context():
        assert tickets_outbox.pending_count() == 0
    assert_vault_knows_client(psa, tenant, created.json["id"])


def test_a_relay_waiting_on_a_silent_broker_holds_up_no_write_on_sqlite(psa, tenant):
    """SQLite with RabbitMQ, and the broker's host stops answering: the connection is accepted,
    the AMQP handshake never comes. Until 2026-11-27 the relay published inside its write
    transaction, and SQLite's one writer holds the whole database: every request that wrote
    waited until the relay gave up (5 s a try, three tries)."""
    if psa.backend != "embedded":
        pytest.skip("PostgreSQL's relay holds only the rows it claimed")
    client_created(psa, tenant.id)  # something to relay
    with socket.create_server(("127.0.0.1", 0)) as silent, ThreadPoolExecutor(1) as pool:
        hanging = Settings.from_env(broker_url=f"amqp://guest:guest@127.0.0.1:{silent.getsockname()[1]}//")
        relaying = pool.submit(bus.Relay(hanging, tickets_outbox, "tickets").relay_once)
        silent.settimeout(10)
        accepted, _ = silent.accept()  # the relay now waits for a handshake that never comes
        with accepted:
            created = tenant.api.post("/api/v1/clients", json={"name": "Written while the broker hangs"})
            assert created.status_code == 201
            assert not relaying.done()  # the write did not wait for the relay
        silent.close()  # the relay's next tries are refused at once
        with pytest.raises(bus.BROKER_ERRORS):
            relaying.result(timeout=60)
    with tickets_db.proxy.connection_context():
        assert tickets_outbox.pending_count() >= 2  # both events still wait for the broker


def assert_vault_knows_client(psa, tenant, client_id):
    from psa_docs_vault.projection import ClientRecord

    with psa.service("docs_vault").db.proxy.connection_context(), tenant_scope(tenant.id):
        assert ClientRecord.get_or_none(ClientRecord.id == client_id) is not None


def rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


@pytest.fixture
def real_broker(psa):
    if psa.backend != "real":
        pytest.skip("stops the real RabbitMQ")
    yield
    rabbitmqctl("start_app")


def test_api_writes_succeed_with_rabbitmq_stopped_and_events_arrive_once_it_is_back(psa, tenant, real_broker):
    psa.declare_queues()
    rabbitmqctl("stop_app")
    started = time.perf_counter()
    responses = [tenant.api.post("/api/v1/clients", json={"name": f"During outage {i}"}) for i in range(20)]
    assert [r.status_code for r in responses] == [201] * 20
    assert time.perf_counter() - started < 10  # no request waited on the broker
    with pytest.raises(bus.BROKER_ERRORS):
        psa.service("tickets").relay(psa.settings).relay_once()
    rabbitmqctl("start_app")
    rabbitmqctl("await_startup")
    psa.settle()
    with tickets_db.proxy.connection_context():
        assert tickets_outbox.pending_count() == 0
    for response in responses:
        assert_vault_knows_client(psa, tenant, response.json["id"])


def test_poison_event_goes_to_the_dead_letter_queue_after_five_deliveries(psa, tenant):
    """On RabbitMQ the broker moves it there; memory:// drops a rejected message, so in embedded
    mode the consumer stores it in its database (tests/shared/test_embedded_dead_letters.py)."""
    attempts = []

    def always_fails(event, payload):
        attempts.append(event.id)
        raise RuntimeError("poison")

    assert dead_letters_of(psa, tenant, "test-poison", always_fails) == 1
    assert 1 <= len(attempts) <= bus.MAX_DELIVERIES


def dead_letters_of(psa, tenant, name: str, handler) -> int:
    """A client made while consumer `name` applies `client.created` with `handler`, delivered until
    the queue is idle: how many dead letters it then has (`bus.dead_letters`: its dead-letter queue,
    or in embedded mode its database)."""
    consumer = bus.Consumer(psa.settings, name, side_inbox(psa), {"client.created": handler})
    client_created(psa, tenant.id)
    with bus.connect(psa.settings) as connection:
        consumer.declare(connection)
        psa.settle()
        consumer.consume(connection, until_idle=1.0)
    return bus.dead_letters(consumer)


def test_every_event_type_has_a_documented_schema():
    for name, kind in events.CATALOGUE.items():
        assert kind.doc and kind.producer, name


def test_every_directory_change_is_an_event(bus, tenant):
    tech = tenant.member("technician")
    acme = tenant.client("Acme Dental")
    tenant.api.put(f"/api/v1/members/{tech.id}/grants", json={"all_clients": False, "client_ids": [acme["id"]]})
    tenant.api.post(f"/api/v1/members/{tech.id}/deactivate")
    types = [e.type for e in bus.emitted()]
    for expected in ("tenant.created", "member.created", "client.created", "member.grants_changed",
                     "member.deactivated"):  # fmt: skip
        assert expected in types
    deactivated = bus.emitted("member.deactivated")[-1]
    assert deactivated.payload["id"] == tech.id and deactivated.actor == tenant.admin_id
