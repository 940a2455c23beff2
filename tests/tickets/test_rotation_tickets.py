"""Offboarding: the vault's `vault.rotation_required` opens one rotation ticket per client on the
tenant's default board, naming the member and how many credentials to change."""

import datetime as dt
import uuid

from psa_shared import events
from psa_shared.tenancy import tenant_scope


def rotation_required(psa, tenant, member_id, member_name: str, clients: dict) -> None:
    """Emit the event the way the vault does: through its outbox, in a transaction, as the tenant."""
    vault = psa.service("docs_vault")
    payload = {
        "member_id": member_id,
        "member_name": member_name,
        "clients": [{"client_id": c, "credential_ids": ids, "attachments": []} for c, ids in clients.items()],
    }
    with vault.db.proxy.connection_context(), tenant_scope(tenant.id), vault.db.proxy.atomic():
        vault.outbox.emit("vault.rotation_required", payload)
    psa.settle()


def tickets_of(tenant, client_id=None) -> list[dict]:
    query = {"limit": 200} | ({"client_id": client_id} if client_id else {})
    response = tenant.api.get("/api/v1/tickets", query_string=query)
    assert response.status_code == 200, response.json
    return response.json["items"]


def credential_ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def test_offboarded_tech_leaves_one_rotation_ticket_per_client(psa, tenant):
    dental, law, bakery = tenant.client("Dental"), tenant.client("Law firm"), tenant.client("Bakery")
    tom = tenant.member("technician", all_clients=True)
    rotation_required(psa, tenant, tom.id, "Tom Tech", {dental["id"]: credential_ids(3), law["id"]: credential_ids(1)})
    dental_tickets, law_tickets = tickets_of(tenant, dental["id"]), tickets_of(tenant, law["id"])
    assert [t["summary"] for t in dental_tickets] == ["Rotate 3 credentials (staff change)"]
    assert [t["summary"] for t in law_tickets] == ["Rotate 1 credential (staff change)"]
    assert tickets_of(tenant, bakery["id"]) == []
    boards = tenant.api.get("/api/v1/boards").json["items"]
    default = next(b for b in boards if b["is_default"])
    assert {t["board_id"] for t in dental_tickets + law_tickets} == {default["id"]}
    assert all(t["status_kind"] == "open" and t["priority"] == "P2" for t in dental_tickets + law_tickets)
    assert {e.actor for e in psa.emitted("ticket.created")} == {"system:rotation"}  # no member opened them


def test_rotation_ticket_lists_the_credentials_to_change(psa, tenant):
    client = tenant.client("Dental")
    ids = credential_ids(2)
    rotation_required(psa, tenant, str(uuid.uuid4()), "Tom Tech", {client["id"]: ids})
    (ticket,) = tickets_of(tenant, client["id"])
    description = tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json["description"]
    assert all(f"/api/v1/credentials/{c}" in description for c in ids)


def test_redelivered_rotation_event_opens_no_second_ticket(psa, tenant):
    client = tenant.client("Dental")
    rotation_required(psa, tenant, str(uuid.uuid4()), "Tom Tech", {client["id"]: credential_ids(2)})
    tickets = psa.service("tickets")
    with tickets.db.proxy.connection_context():
        inbox = list(tickets.inbox.model.select().where(tickets.inbox.model.type == "vault.rotation_required"))
    assert len(inbox) == 1
    vault = psa.service("docs_vault")
    with vault.db.proxy.connection_context():
        vault.outbox.model.update(published_at=None).execute()  # the relay publishes the same event again
    psa.settle()
    assert len(tickets_of(tenant, client["id"])) == 1


def test_rotation_ticket_for_a_client_unknown_to_the_tickets_service_is_skipped(psa, tenant):
    client = tenant.client("Dental")
    rotation_required(
        psa,
        tenant,
        str(uuid.uuid4()),
        "Tom Tech",
        {str(uuid.uuid4()): credential_ids(1), client["id"]: credential_ids(1)},
    )
    assert len(tickets_of(tenant)) == 1


def test_rotation_tickets_stay_in_their_tenant(psa, tenant, other_tenant):
    client = tenant.client("Dental")
    rotation_required(psa, tenant, str(uuid.uuid4()), "Tom Tech", {client["id"]: credential_ids(4)})
    assert len(tickets_of(tenant)) == 1
    assert tickets_of(other_tenant) == []


def test_a_version_1_event_from_a_vault_not_yet_upgraded_still_opens_its_ticket(psa, tenant):
    """Version 1 named credentials alone; the tickets service reads it as naming no files."""
    client = tenant.client("Dental")
    ids = credential_ids(2)
    clients = [{"client_id": client["id"], "credential_ids": ids}]
    older = events.Event(
        type="vault.rotation_required",
        version=1,
        tenant_id=tenant.id,
        payload={"member_id": str(uuid.uuid4()), "member_name": "Tom Tech", "clients": clients},
    )
    tickets = next(c for c in psa.consumers() if c.service == "tickets")
    assert tickets.apply(older)
    (ticket,) = tickets_of(tenant, client["id"])
    assert ticket["summary"] == "Rotate 2 credentials (staff change)"


def test_the_clients_report_shows_the_rotation_but_not_who_left(psa, tenant):
    """The rotation ticket heads a section of the client's activity report: the MSP's staff change
    is its own business, the work on the client's passwords is not hidden."""
    client = tenant.client("Dental")
    rotation_required(psa, tenant, str(uuid.uuid4()), "Tom Tech", {client["id"]: credential_ids(1)})
    (ticket,) = tickets_of(tenant, client["id"])
    opened = dt.date.fromisoformat(ticket["created_at"][:10])
    days = {"from": str(opened - dt.timedelta(days=1)), "to": str(opened + dt.timedelta(days=1))}  # any zone
    report = tenant.api.get(f"/api/v1/clients/{client['id']}/activity-report.html", query_string=days)
    assert report.status_code == 200
    page = report.get_data(as_text=True)
    assert "Rotate 1 credential (staff change)" in page and "Tom Tech" not in page
    trail = tenant.api.get(f"/api/v1/tickets/{ticket['id']}/timeline", query_string={"audience": "client"}).json
    assert "Tom Tech" not in str(trail)
    assert "Tom Tech left" in tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json["description"]
