"""A ticket goes to a tech who can open it: one without the client's grant would hold a request
he cannot see, and the client would wait on nobody (until 2026-11-27 it was taken)."""

from .test_projects_grants_and_queue import refused, regrant


def outbox_count(psa) -> int:
    service = psa.service("tickets")
    with service.db.proxy.connection_context():
        return service.outbox.model.select().count()


def test_a_new_ticket_cannot_go_to_a_tech_without_the_clients_grant(tenant, psa):
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Legal")
    bob = tenant.member("technician", grants=[bolt["id"]])
    before = outbox_count(psa)
    body = {"client_id": acme["id"], "summary": "Printer jams", "assignee_id": bob.id}
    refused(tenant.api.post("/api/v1/tickets", json=body), "assignee_id")
    assert tenant.api.get("/api/v1/tickets").json["items"] == [] and outbox_count(psa) == before
    made = tenant.api.post("/api/v1/tickets", json={**body, "client_id": bolt["id"]})
    assert made.status_code == 201 and bob.api.get(f"/api/v1/tickets/{made.json['id']}").status_code == 200


def test_the_dispatcher_hands_acmes_ticket_to_bob_once_he_is_granted_acme(tenant):
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Legal")
    bob = tenant.member("technician", grants=[bolt["id"]])
    ticket = tenant.api.post("/api/v1/tickets", json={"client_id": acme["id"], "summary": "VPN down"}).json
    path = f"/api/v1/tickets/{ticket['id']}"
    refused(tenant.api.patch(path, json={"assignee_id": bob.id, "priority": "P1"}), "assignee_id")
    assert tenant.api.get(path).json["priority"] == ticket["priority"]  # nothing written
    regrant(tenant, bob.id, bolt["id"], acme["id"])
    handed = tenant.api.patch(path, json={"assignee_id": bob.id})
    assert handed.status_code == 200 and bob.api.get(path).json["assignee_id"] == bob.id


def test_a_tech_who_sees_every_client_and_another_msps_admin(tenant, other_tenant):
    acme = tenant.client("Acme Dental")
    carol = tenant.member("technician", all_clients=True)
    body = {"client_id": acme["id"], "summary": "New laptop", "assignee_id": carol.id}
    assert tenant.api.post("/api/v1/tickets", json=body).status_code == 201
    foreign = {**body, "assignee_id": other_tenant.admin_id}  # all clients, of another MSP
    refused(tenant.api.post("/api/v1/tickets", json=foreign), "assignee_id")
