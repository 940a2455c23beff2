"""Versions of events: a later event about a record always outranks an earlier one, whatever
order they arrive in; and no event is published before the queues that should get it exist."""

import dataclasses
import datetime as dt
import time
import uuid

from psa_docs_vault.projection import ClientRecord
from psa_shared import bus, events
from psa_shared.events import Event
from psa_shared.runtime import System
from psa_shared.tenancy import tenant_scope
from psa_tickets.database import db as tickets_db
from psa_tickets.database import outbox as tickets_outbox

from ..tickets.test_service_desk import configuration, log, open_ticket


def _outbox(psa, name) -> list[Event]:
    model = psa.service("tickets").outbox.model
    with model._meta.database.connection_context():
        return [Event.from_json(r.body) for r in model.select().where(model.type == name).order_by(model.created_at)]


def _configuration(tenant, client, name):
    made = tenant.api.post("/api/v1/configurations", json={"client_id": client["id"], "type": "workstation",
                                                             "name": name})  # fmt: skip
    assert made.status_code == 201, made.json
    return made.json


def _last_worked_by(tenant, configuration):
    return tenant.api.get(f"/api/v1/configurations/{configuration['id']}/history").json["last_worked_by"]


def _relinking(tenant, ticket, configuration) -> list:
    """The relink as update_ticket writes it, for `psa.meanwhile` to hold back its commit."""
    return [
        ("UPDATE ticket SET updated_at = %s WHERE id = %s", (str(dt.datetime.utcnow()), uuid.UUID(ticket["id"]))),
        (
            "INSERT INTO ticketconfiguration (id, tenant_id, ticket_id, configuration_id) VALUES (%s, %s, %s, %s)",
            (uuid.uuid4(), uuid.UUID(tenant.id), uuid.UUID(ticket["id"]), uuid.UUID(configuration["id"])),
        ),
    ]


def test_relinked_twice_the_older_resend_arriving_last_leaves_the_work_on_the_laptop(psa, tenant):
    """Tom logs an hour on "PC is slow"; the dispatcher links the reception PC, then sees it was
    the reception laptop and relinks. Each relink re-sends Tom's entry; the first is redelivered
    after the second (a transient failure, or two vault workers). Until 2026-11-27 both carried
    the entry's own unchanged `updated_at`, the later-applied one won the tie, and the vault named
    Tom as the last to work on the PC and nobody on the laptop."""
    client = tenant.client("Dental Practice")
    tom = tenant.member("technician", all_clients=True)
    psa.settle()
    pc, laptop = _configuration(tenant, client, "PC-RECEPTION"), _configuration(tenant, client, "LAPTOP-RECEPTION")
    psa.settle()  # the tickets service learns them
    ticket = tom.api.post("/api/v1/tickets", json={"client_id": client["id"], "summary": "PC is slow"}).json
    path = f"/api/v1/tickets/{ticket['id']}"
    assert tom.api.post(f"{path}/time-entries", json={"minutes": 60}).status_code == 201
    psa.settle()
    for linked in ([pc["id"]], [laptop["id"]]):
        assert tenant.api.patch(path, json={"configuration_ids": linked}).status_code == 200
    to_pc, to_laptop = _outbox(psa, "time_entry.updated")
    assert to_pc.payload["updated_at"] == to_laptop.payload["updated_at"]  # billing: not an edit

    vault = next(c for c in psa.consumers() if c.service == "docs_vault")
    assert vault.apply(to_laptop) and vault.apply(to_pc)
    assert vault.apply(to_laptop) is False  # and a redelivery is still a duplicate
    assert _last_worked_by(tenant, pc) is None
    assert _last_worked_by(tenant, laptop)["id"] == tom.id


def test_an_entry_edited_while_its_ticket_is_relinked_is_sent_with_the_new_configuration(psa, tenant):
    """The dispatcher links the reception PC to "PC is slow" while Tom corrects his entry's work
    type. The relink re-sends the entry as it reads it; the edit must wait for the relink, or it
    sends the configurations of before at a later `revised_at` than the relink's re-send, and the
    vault never learns the work was on the PC. Until 2026-11-27 it did not wait (on PostgreSQL;
    SQLite's writers take turns)."""
    client = tenant.client("Dental Practice")
    pc = configuration(psa, tenant, client["id"], name="PC-RECEPTION")
    ticket = open_ticket(tenant.api, client["id"], summary="PC is slow")
    entry = log(tenant.api, ticket["id"], minutes=60).json
    path = f"/api/v1/tickets/{ticket['id']}/time-entries/{entry['id']}"

    edited = psa.meanwhile(
        "tickets", _relinking(tenant, ticket, pc), lambda: tenant.api.patch(path, json={"work_type": "Remote"})
    )

    assert edited.status_code == 200, edited.json
    (sent,) = _outbox(psa, "time_entry.updated")
    assert sent.payload["configuration_ids"] == [pc["id"]]


def test_an_entry_logged_while_its_ticket_is_relinked_is_sent_with_the_new_configuration(psa, tenant):
    """Tom logs his call on "PC is slow" while the dispatcher links the reception PC to it. The
    relink re-sends the entries it finds, and Tom's is not committed yet; so Tom's own event must
    carry the PC. Until 2026-11-27 it carried the configurations read before the relink
    committed, and the vault never learnt that Tom worked on the PC (both backends)."""
    client = tenant.client("Dental Practice")
    pc = configuration(psa, tenant, client["id"], name="PC-RECEPTION")
    ticket = open_ticket(tenant.api, client["id"], summary="PC is slow")

    logged = psa.meanwhile("tickets", _relinking(tenant, ticket, pc), lambda: log(tenant.api, ticket["id"], minutes=0))

    assert logged.status_code == 201, logged.json
    (sent,) = _outbox(psa, "time_entry.logged")
    assert sent.payload["configuration_ids"] == [pc["id"]]
    trail = tenant.api.get(f"/api/v1/tickets/{ticket['id']}/timeline").json["items"]
    assert [item["kind"] for item in trail].count("time_entry") == 1  # logged once, not once per try


def test_a_time_entry_event_of_version_1_is_read_with_its_updated_at_as_its_revision():
    """Events written before `revised_at` existed (still in an outbox or on a queue) are upcast."""
    payload = {"id": str(uuid.uuid4()), "ticket_id": None, "task_id": None, "project_id": None,
               "ticket_number": None, "client_id": str(uuid.uuid4()), "member_id": str(uuid.uuid4()),
               "started_at": "2026-11-02T09:00:00Z", "minutes": 60, "billing": "billable", "notes": None,
               "work_type": None, "configuration_ids": [], "updated_at": "2026-11-02T10:00:00Z"}  # fmt: skip
    for name in ("time_entry.logged", "time_entry.updated"):
        read = events.parse(Event(type=name, tenant_id=str(uuid.uuid4()), payload=payload, version=1))
        assert read["revised_at"] == "2026-11-02T10:00:00Z" and read["updated_at"] == "2026-11-02T10:00:00Z"


def test_on_a_fresh_deployment_the_vault_learns_clients_made_before_its_worker_ever_ran(psa, tenant):
    """`psa worker tickets` starts first on a fresh broker; a client is created and relayed; only
    then does `psa worker docs_vault` start. Until 2026-11-27 the tickets worker declared its own
    queue alone: RabbitMQ dropped the `client.created` (no queue bound to it yet), the outbox held
    it as sent, and the vault refused the client for good."""
    fresh = dataclasses.replace(psa.settings, bus_prefix=f"test-{uuid.uuid4().hex[:8]}.")  # no queue yet
    tickets_worker = System(fresh, [psa.service("tickets")])
    vault_worker = System(fresh, [psa.service("docs_vault")])
    try:
        tickets_worker.start_workers()
        made = tenant.api.post("/api/v1/clients", json={"name": "Riverside Law"})
        assert made.status_code == 201
        with tickets_db.proxy.connection_context():
            for _ in range(100):
                if tickets_outbox.pending_count() == 0:
                    break
                time.sleep(0.1)
            assert tickets_outbox.pending_count() == 0  # relayed, and marked sent
        tickets_worker.stop_workers()
        with bus.connect(fresh) as connection:
            (vault,) = vault_worker.consumers()
            vault.declare(connection)
            vault.consume(connection, until_idle=0.5 if psa.backend == "embedded" else 1.0)
        with psa.service("docs_vault").db.proxy.connection_context(), tenant_scope(tenant.id):
            assert ClientRecord.get_or_none(ClientRecord.id == made.json["id"]) is not None
    finally:
        tickets_worker.stop_workers()
        with bus.connect(fresh) as connection:  # the namespace's queues go with the test
            for consumer in tickets_worker.consumers() + vault_worker.consumers():
                for queue in consumer.queues:
                    queue.bind(connection.default_channel).delete()
