"""What the directory tells the vault and partners' plugins: every grant, every field an MSP edits on
a client or contact, and nothing at all when a save changes nothing."""

import uuid

import pytest

from psa_shared import events
from psa_shared.events import Event

from .test_service_desk import outbox


def _member_events(psa, member_id) -> list[Event]:
    return [e for e in psa.emitted() if e.type.startswith("member.") and e.payload["id"] == member_id]


def test_a_dispatcher_who_adds_a_client_is_granted_it_everywhere(tenant, psa):
    acme = tenant.client("Acme")
    disp = tenant.member("dispatcher", grants=[acme["id"]])
    made = disp.api.post("/api/v1/clients", json={"name": "New Co"})
    assert made.json["id"] in tenant.api.get(f"/api/v1/members/{disp.id}/grants").json["client_ids"]
    psa.settle()
    dc01 = tenant.api.post(
        "/api/v1/configurations", json={"client_id": made.json["id"], "type": "server", "name": "DC01"}
    )
    psa.settle()

    last = _member_events(psa, disp.id)[-1]
    assert last.type == "member.grants_changed" and last.actor == disp.id
    assert sorted(last.payload["client_ids"]) == sorted([acme["id"], made.json["id"]])
    assert disp.api.get(f"/api/v1/configurations/{dc01.json['id']}").status_code == 200


def test_a_contact_who_left_and_a_client_who_moved_reach_a_consumer_whole(tenant, psa):
    """Bob leaves Acme's finance team and Acme moves offices: a consumer keeping its own copy learns
    both from the events alone."""
    acme = tenant.client("Acme")
    bob = tenant.api.post("/api/v1/contacts", json={"client_id": acme["id"], "name": "Bob", "title": "CFO"}).json
    tenant.api.patch(f"/api/v1/contacts/{bob['id']}", json={"active": False, "title": "CEO"})
    moved = {"phone": "+44 20 7946 0000", "website": "https://acme.example", "notes": "Door code 4711"}
    tenant.api.patch(f"/api/v1/clients/{acme['id']}", json=moved)

    created, updated = outbox(psa, "contact.created")[-1], outbox(psa, "contact.updated")[-1]
    assert (created["version"], created["payload"]["title"], created["payload"]["active"]) == (2, "CFO", True)
    assert (updated["payload"]["title"], updated["payload"]["active"]) == ("CEO", False)
    client = outbox(psa, "client.updated")[-1]
    assert client["version"] == 2 and {k: client["payload"][k] for k in moved} == moved


@pytest.mark.parametrize(
    ("name", "payload", "unsent"),
    [
        ("client.updated", {"name": "Acme", "number": 1, "active": True}, {"phone", "website", "notes"}),
        ("contact.created", {"client_id": str(uuid.uuid4()), "name": "Bob", "email": None, "phone": None},
         {"title", "active"}),
    ],
)  # fmt: skip
def test_a_version_1_directory_event_still_in_a_queue_is_read_with_what_it_never_carried_null(name, payload, unsent):
    sent = {"id": str(uuid.uuid4()), **payload, "updated_at": "2026-11-27T09:00:00Z"}
    read = events.parse(Event(type=name, tenant_id=str(uuid.uuid4()), payload=sent, version=1))
    assert {k: read[k] for k in unsent} == dict.fromkeys(unsent)


def test_an_admin_granted_every_client_and_acme_by_name_is_sent_as_the_grants_read(tenant, psa):
    """Acme is named so the dispatcher keeps it should every client be taken from them again."""
    acme = tenant.client("Acme")
    disp = tenant.member("dispatcher")
    grants = f"/api/v1/members/{disp.id}/grants"
    tenant.api.put(grants, json={"all_clients": True, "client_ids": [acme["id"]]})

    sent = _member_events(psa, disp.id)[-1].payload
    assert {"all_clients": sent["all_clients"], "client_ids": sent["client_ids"]} == tenant.api.get(grants).json


# --- a save that changes nothing tells nobody ------------------------------------------------------


def test_saving_a_member_or_their_grants_unchanged_tells_nobody(tenant, psa):
    """The admin opens the dispatcher's page and presses Save twice, then resets her password."""
    acme = tenant.client("Acme")
    disp = tenant.member("dispatcher", grants=[acme["id"]])
    path = f"/api/v1/members/{disp.id}"
    member = tenant.api.get(path).json
    as_it_is = {k: member[k] for k in ("name", "email", "role", "weekly_capacity_hours")}
    sent = len(_member_events(psa, disp.id))

    saved = tenant.api.patch(path, json={**as_it_is, "email": member["email"].upper()})
    granted = tenant.api.put(f"{path}/grants", json={"all_clients": False, "client_ids": [acme["id"]]})

    assert saved.json == member and granted.status_code == 200
    assert tenant.api.get(path).json["updated_at"] == member["updated_at"]
    assert len(_member_events(psa, disp.id)) == sent
    assert tenant.api.patch(path, json={**as_it_is, "password": "a new horse battery"}).status_code == 200
    assert [e.type for e in _member_events(psa, disp.id)[sent:]] == ["member.updated"]  # a new stamp


def test_saving_a_client_or_contact_unchanged_tells_nobody(tenant, psa):
    acme = tenant.client("Acme", phone="+44 20 7946 0000")
    bob = tenant.api.post("/api/v1/contacts", json={"client_id": acme["id"], "name": "Bob", "title": "CFO"}).json
    client_fields = {k: acme[k] for k in ("name", "phone", "website", "notes", "active")}
    contact_fields = {k: bob[k] for k in ("client_id", "name", "email", "phone", "title", "active")}

    saved_client = tenant.api.patch(f"/api/v1/clients/{acme['id']}", json=client_fields)
    saved_contact = tenant.api.patch(f"/api/v1/contacts/{bob['id']}", json=contact_fields)

    assert (saved_client.json, saved_contact.json) == (acme, bob)
    assert outbox(psa, "client.updated") == [] and outbox(psa, "contact.updated") == []
    tenant.api.patch(f"/api/v1/contacts/{bob['id']}", json={**contact_fields, "title": "CEO"})
    assert [e["payload"]["title"] for e in outbox(psa, "contact.updated")] == ["CEO"]
