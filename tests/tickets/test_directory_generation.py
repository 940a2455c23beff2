"""Members, grants and boards are kept per process for one directory generation: a change made by
another process counts from this process's next request, because the change bumps the generation."""

from contextlib import contextmanager

from psa_shared.tenancy import tenant_scope
from psa_tickets.database import db
from psa_tickets.directory.models import Client, ClientGrant, Generation, Member, new_stamp
from psa_tickets.servicedesk.models import Status


@contextmanager
def elsewhere(tenant, bump: bool = True):
    """Rows written as another worker process writes them: in the database, in one transaction
    with the generation bump, without a word to this process's cache."""
    with db.proxy.connection_context(), tenant_scope(tenant.id), db.proxy.atomic():
        yield
        if bump:
            Generation.update(value=Generation.value + 1).execute()


def open_ticket(tenant, client_id) -> dict:
    made = tenant.api.post("/api/v1/tickets", json={"client_id": client_id, "summary": "Mailbox full"})
    assert made.status_code == 201, made.json
    return made.json


def test_a_tech_deactivated_by_another_process_is_refused_at_the_next_request(tenant):
    tech = tenant.member()
    assert tech.api.get("/api/v1/tickets").status_code == 200  # this process now knows the tech

    with elsewhere(tenant):
        Member.update(active=False, stamp=new_stamp()).where(Member.id == tech.id).execute()

    assert tech.api.get("/api/v1/tickets").status_code == 401


def test_a_grant_withdrawn_by_another_process_hides_the_client_at_once(tenant):
    kept, withdrawn = tenant.client(), tenant.client()
    tech = tenant.member(grants=[kept["id"], withdrawn["id"]])
    ticket = open_ticket(tenant, withdrawn["id"])
    assert tech.api.get(f"/api/v1/tickets/{ticket['id']}").status_code == 200

    with elsewhere(tenant):
        ClientGrant.delete().where((ClientGrant.member == tech.id) & (ClientGrant.client == withdrawn["id"])).execute()

    assert tech.api.get(f"/api/v1/tickets/{ticket['id']}").status_code == 404


def test_a_status_renamed_by_another_process_reads_renamed_at_once(tenant):
    ticket = open_ticket(tenant, tenant.client()["id"])
    assert ticket["status"] == "New"

    with elsewhere(tenant):
        Status.update(name="Triage").where(Status.name == "New").execute()

    assert tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json["status"] == "Triage"


def test_a_writer_that_forgets_the_bump_is_not_seen(tenant):
    """Why every writer of those rows calls directory_changed() in its transaction."""
    ticket = open_ticket(tenant, tenant.client()["id"])

    with elsewhere(tenant, bump=False):
        Status.update(name="Triage").where(Status.name == "New").execute()

    assert tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json["status"] == "New"


def test_a_client_one_msp_uses_stays_unknown_to_another(tenant, other_tenant):
    """Clients are kept per tenant once found: using one first does not make it another MSP's."""
    theirs = other_tenant.client()
    open_ticket(other_tenant, theirs["id"])  # this process now knows the client, in its tenant

    refused = tenant.api.post("/api/v1/tickets", json={"client_id": theirs["id"], "summary": "Mailbox full"})

    assert refused.status_code == 422
    assert "client_id" in refused.json["errors"]


def test_a_client_added_by_another_process_is_found_at_once(tenant):
    """An unknown client is not remembered as unknown: the next request reads again."""
    new_id = "01a21723-8b32-7c1e-9557-399837f2c5b9"
    missing = tenant.api.post("/api/v1/tickets", json={"client_id": new_id, "summary": "Mailbox full"})
    assert missing.status_code == 422

    with elsewhere(tenant, bump=False):  # clients do not bump the generation
        Client.create(id=new_id, number=9999, name="Arrived meanwhile")

    assert tenant.api.post("/api/v1/tickets", json={"client_id": new_id, "summary": "Mailbox full"}).status_code == 201
