"""What billing and the vault read from the tickets service's events, and what the tickets service
does with billing's postings: edges a billing service (still to come) would meet first."""

import decimal
import json
import logging
import uuid

import marshmallow as ma
import pytest

from psa_shared import events

from .projects_seed import project, task
from .test_service_desk import apply, log, open_ticket, outbox


def posting(client_id, entry_ids, number="INV-1"):
    return {"invoice_id": str(uuid.uuid4()), "number": number, "client_id": client_id,
            "time_entry_ids": entry_ids, "total": "120.00", "currency": "USD"}  # fmt: skip


def test_time_on_an_office_move_tells_billing_which_project_to_invoice_it_under(tenant, psa):
    """Billing starts after the projects were opened: it never saw their `task.created`, so the
    entry itself must name the project its task belongs to (a ticket's entry names its number)."""
    acme = tenant.client("Acme Dental")
    move = project(tenant.api, acme["id"], name="Office move")
    cabling = task(tenant.api, move["id"], name="Cable 12 desks")
    path = f"/api/v1/tasks/{cabling['id']}/time-entries"
    entry = tenant.api.post(path, json={"minutes": 90, "notes": "Cabled 6 desks"}).json
    assert tenant.api.patch(f"{path}/{entry['id']}", json={"minutes": 120}).status_code == 200

    for name in ("time_entry.logged", "time_entry.updated"):
        payload = outbox(psa, name)[-1]["payload"]
        assert (payload["task_id"], payload["project_id"], payload["client_id"]) == (
            cabling["id"], move["id"], acme["id"],
        )  # fmt: skip
        assert payload["ticket_id"] is None and payload["ticket_number"] is None

    printer = open_ticket(tenant.api, acme["id"])
    log(tenant.api, printer["id"], minutes=15)
    on_ticket = outbox(psa, "time_entry.logged")[-1]["payload"]
    assert on_ticket["project_id"] is None and on_ticket["ticket_number"] == printer["number"]


def test_an_invoice_to_acme_does_not_lock_riversides_time_as_billed(tenant, psa, caplog):
    """Billing posts Acme's March invoice naming, by mistake, an hour of Riverside's: that hour is
    not Acme's to bill. It stays unbilled (Riverside's invoice can still take it, the tech can
    still correct it) and the tickets service says so; Acme's own entry is billed."""
    acme, riverside = tenant.client("Acme Dental"), tenant.client("Riverside Law")
    acme_hour = log(tenant.api, open_ticket(tenant.api, acme["id"])["id"], minutes=60).json
    riverside_ticket = open_ticket(tenant.api, riverside["id"])
    riverside_hour = log(tenant.api, riverside_ticket["id"], minutes=60).json

    march = posting(acme["id"], [acme_hour["id"], riverside_hour["id"]])
    with caplog.at_level(logging.WARNING):
        apply(psa, "invoice.posted", tenant.id, march)

    path = f"/api/v1/tickets/{riverside_ticket['id']}/time-entries/{riverside_hour['id']}"
    assert tenant.api.get(path).json["billed_invoice_id"] is None
    assert tenant.api.patch(path, json={"minutes": 45}).status_code == 200
    assert f"time entry {riverside_hour['id']} of invoice {march['invoice_id']} is not client" in caplog.text
    acme_path = f"/api/v1/tickets/{acme_hour['ticket_id']}/time-entries/{acme_hour['id']}"
    assert tenant.api.get(acme_path).json["billed_invoice_id"] == march["invoice_id"]

    riverside_april = posting(riverside["id"], [riverside_hour["id"]], number="INV-2")
    apply(psa, "invoice.posted", tenant.id, riverside_april)
    assert tenant.api.get(path).json["billed_invoice_id"] == riverside_april["invoice_id"]


def test_an_invoice_naming_a_deleted_entry_is_reported_for_billing_to_credit(tenant, psa, caplog):
    """The tech deletes a duplicate call while billing's draft still holds it; the posting lands
    after the delete. Nothing is billed for it, and the log names it, as it names an entry
    already on another invoice."""
    acme = tenant.client("Acme Dental")
    ticket = open_ticket(tenant.api, acme["id"])
    twice = log(tenant.api, ticket["id"], minutes=30).json
    assert tenant.api.delete(f"/api/v1/tickets/{ticket['id']}/time-entries/{twice['id']}").status_code == 204

    posted = posting(acme["id"], [twice["id"]])
    with caplog.at_level(logging.WARNING):
        assert apply(psa, "invoice.posted", tenant.id, posted)
    assert f"time entry {twice['id']} of invoice {posted['invoice_id']} is unknown" in caplog.text


def test_the_vault_knows_who_worked_on_the_pc_linked_to_the_ticket_after_the_work(tenant, psa):
    """Tom fixes a slow PC and logs his hour; the dispatcher then links the reception PC to the
    ticket. The vault's page of that PC lists the ticket, and should name Tom as the last to
    work on it."""
    client = tenant.client("Dental Practice")
    tom = tenant.member("technician", all_clients=True)
    psa.settle()
    pc = tenant.api.post("/api/v1/configurations", json={"client_id": client["id"], "type": "workstation",
                                                         "name": "PC-RECEPTION"}).json  # fmt: skip
    psa.settle()  # the tickets service learns the PC
    slow = open_ticket(tom.api, client["id"], summary="PC is slow")
    assert log(tom.api, slow["id"], minutes=60, started_at="2026-11-02T09:00:00Z").status_code == 201
    linked = tenant.api.patch(f"/api/v1/tickets/{slow['id']}", json={"configuration_ids": [pc["id"]]})
    assert linked.status_code == 200
    psa.settle()
    seen = tenant.api.get(f"/api/v1/configurations/{pc['id']}/history").json
    assert seen["ticket_count"] == 1
    assert seen["last_worked_by"] is not None and seen["last_worked_by"]["id"] == tom.id


def test_the_handout_emailed_to_the_client_is_announced_like_every_other_change(tenant, psa):
    """The spec asks for events for every change: the client-visible note "Emailed the handout"
    goes out with its text; an internal note is announced without it (it never leaves the MSP)."""
    client = tenant.client("Acme Dental")
    ticket = open_ticket(tenant.api, client["id"], summary="Clean out my mailbox")
    path = f"/api/v1/tickets/{ticket['id']}/notes"
    handout = tenant.api.post(path, json={"text": "Emailed the handout", "internal": False}).json
    internal = tenant.api.post(path, json={"text": "She sounded annoyed", "internal": True}).json
    sent = [event["payload"] for event in outbox(psa, "note.created")]
    assert sent == [
        {"id": handout["id"], "ticket_id": ticket["id"], "ticket_number": ticket["number"], "client_id": client["id"],
         "author_id": tenant.admin_id, "internal": False, "text": "Emailed the handout",
         "created_at": handout["created_at"], "ticket_updated_at": handout["created_at"]},
        {"id": internal["id"], "ticket_id": ticket["id"], "ticket_number": ticket["number"], "client_id": client["id"],
         "author_id": tenant.admin_id, "internal": True, "text": None, "created_at": internal["created_at"],
         "ticket_updated_at": internal["created_at"]},
    ]  # fmt: skip


def test_unbilled_time_on_a_project_moved_to_its_right_client_is_billed_to_that_client(tenant, psa):
    """The office move was opened under Acme by mistake; it is Riverside's. The hour already
    logged, not yet invoiced, is Riverside's to pay, as is every hour logged after the move."""
    acme, riverside = tenant.client("Acme Dental"), tenant.client("Riverside Law")
    move = project(tenant.api, acme["id"], name="Office move")
    cabling = task(tenant.api, move["id"], name="Cable 12 desks")
    path = f"/api/v1/tasks/{cabling['id']}/time-entries"
    before = tenant.api.post(path, json={"minutes": 60}).json
    assert tenant.api.patch(f"/api/v1/projects/{move['id']}", json={"client_id": riverside["id"]}).status_code == 200
    tenant.api.post(path, json={"minutes": 30})
    assert outbox(psa, "time_entry.logged")[-1]["payload"]["client_id"] == riverside["id"]
    assert tenant.api.patch(f"{path}/{before['id']}", json={"notes": "Cabled 6 desks"}).status_code == 200
    assert outbox(psa, "time_entry.updated")[-1]["payload"]["client_id"] == riverside["id"]


def test_an_internal_hour_named_on_an_invoice_stays_unbilled_and_editable(tenant, psa, caplog):
    """Non-billable time never goes on an invoice: an invoice naming it leaves it unbilled (until
    2026-11-28 it was locked as billed); no-charge time is on the invoice, at no charge, and billed."""
    acme = tenant.client("Acme Dental")
    ticket = open_ticket(tenant.api, acme["id"])
    internal = log(tenant.api, ticket["id"], minutes=60, billing="non_billable").json
    courtesy = log(tenant.api, ticket["id"], minutes=15, billing="no_charge").json
    march = posting(acme["id"], [internal["id"], courtesy["id"]])
    with caplog.at_level(logging.WARNING):
        apply(psa, "invoice.posted", tenant.id, march)
    entries = f"/api/v1/tickets/{ticket['id']}/time-entries"
    assert tenant.api.get(f"{entries}/{internal['id']}").json["billed_invoice_id"] is None
    assert tenant.api.patch(f"{entries}/{internal['id']}", json={"minutes": 45}).status_code == 200
    assert f"time entry {internal['id']} of invoice {march['invoice_id']} is non_billable" in caplog.text
    assert tenant.api.get(f"{entries}/{courtesy['id']}").json["billed_invoice_id"] == march["invoice_id"]


def test_billing_sends_money_as_decimal_text_never_a_float():
    """A Decimal total goes out as its digits (it could not be written until 2026-11-28); a float
    (0.1 + 0.2 went out as 0.30000000000000004) and a currency that is no ISO code are refused."""
    body = posting(str(uuid.uuid4()), [])
    sent = events.build("invoice.posted", uuid.uuid4(), {**body, "total": decimal.Decimal("120.50")})
    assert json.loads(sent.to_json())["payload"]["total"] == "120.50"
    for wrong, field in (({"total": 0.1 + 0.2}, "total"), ({"currency": ""}, "currency")):
        with pytest.raises(ma.ValidationError) as refused:
            events.build("invoice.posted", uuid.uuid4(), {**body, **wrong})
        assert list(refused.value.messages) == [field]


def test_a_task_entry_sent_before_it_named_its_project_reads_as_naming_none():
    older = {"id": str(uuid.uuid4()), "ticket_id": None, "task_id": str(uuid.uuid4()), "ticket_number": None,
             "client_id": str(uuid.uuid4()), "member_id": str(uuid.uuid4()), "started_at": "2026-11-20T09:00:00Z",
             "minutes": 30, "billing": "billable", "notes": "Migrated mailboxes", "work_type": None,
             "configuration_ids": [], "updated_at": "2026-11-20T09:30:00Z"}  # fmt: skip
    event = events.Event(type="time_entry.logged", version=1, tenant_id=str(uuid.uuid4()), payload=older)
    assert events.parse(event)["project_id"] is None
