"""Time logged in another member's name: the trail says whose work it is and who wrote it, and the
work is only ever someone's who is still with the MSP and may see the client (until 2026-11-27 a
tech's eight hours in the admin's name read as the admin's own entry, and time went to a leaver)."""

from .projects_seed import project, task
from .test_projects_grants_and_queue import refused
from .test_service_desk import log, open_ticket, outbox


def entry_item(api, ticket_id, audience="internal") -> dict:
    items = api.get(f"/api/v1/tickets/{ticket_id}/timeline?audience={audience}").json["items"]
    return next(i for i in items if i["kind"] == "time_entry")


def deactivate(tenant, member) -> None:
    assert tenant.api.post(f"/api/v1/members/{member.id}/deactivate").status_code == 200


def test_the_dispatcher_sees_that_t2_logged_the_admins_eight_hours(tenant, psa):
    acme = tenant.client("Acme Dental")
    t2 = tenant.member("technician", grants=[acme["id"]])
    ticket = open_ticket(tenant.api, acme["id"])
    body = {"minutes": 480, "member_id": tenant.admin_id, "notes": "Rebuilt the file server"}
    logged = log(t2.api, ticket["id"], **body)
    assert logged.status_code == 201, logged.json
    assert (logged.json["member_id"], logged.json["recorded_by_id"]) == (tenant.admin_id, t2.id)

    item = entry_item(tenant.api, ticket["id"])
    assert item["actor"]["id"] == tenant.admin_id  # whose work it is, as the client report reads it
    assert item["recorded_by"] == {"id": t2.id, "name": "Technician"}
    seen_by_client = entry_item(tenant.api, ticket["id"], "client")
    assert seen_by_client["actor"]["id"] == tenant.admin_id and "recorded_by" not in seen_by_client
    (event,) = outbox(psa, "time_entry.logged")
    assert (event["payload"]["member_id"], event["actor"]) == (tenant.admin_id, t2.id)


def test_a_techs_own_time_names_no_other_writer(tenant):
    acme = tenant.client("Acme Dental")
    tom = tenant.member("technician", grants=[acme["id"]])
    ticket = open_ticket(tenant.api, acme["id"])
    assert log(tom.api, ticket["id"], notes="Swapped the toner").json["recorded_by_id"] == tom.id
    item = entry_item(tenant.api, ticket["id"])
    assert item["actor"]["id"] == tom.id and item["recorded_by"] is None


def test_no_time_goes_to_an_engineer_who_has_left(tenant):
    acme = tenant.client("Acme Dental")
    leaver = tenant.member("technician", grants=[acme["id"]])
    deactivate(tenant, leaver)
    ticket = open_ticket(tenant.api, acme["id"])
    refused(log(tenant.api, ticket["id"], minutes=60, member_id=leaver.id), "member_id")
    assert tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json["spent_minutes"] == 0

    cabling = task(tenant.api, project(tenant.api, acme["id"])["id"])
    path = f"/api/v1/tasks/{cabling['id']}/time-entries"
    refused(tenant.api.post(path, json={"minutes": 60, "member_id": leaver.id}), "member_id")
    assert tenant.api.get(path).json["items"] == []


def test_a_leavers_entry_stays_editable_but_no_entry_is_handed_to_them(tenant):
    acme = tenant.client("Acme Dental")
    leaver = tenant.member("technician", grants=[acme["id"]])
    ticket = open_ticket(tenant.api, acme["id"])
    theirs = log(leaver.api, ticket["id"], minutes=90, notes="Moved the mailboxes").json
    mine = log(tenant.api, ticket["id"], minutes=30).json
    deactivate(tenant, leaver)
    path = f"/api/v1/tickets/{ticket['id']}/time-entries"

    fixed = tenant.api.patch(f"{path}/{theirs['id']}", json={"member_id": leaver.id, "notes": "Moved 40 mailboxes"})
    assert fixed.status_code == 200 and fixed.json["notes"] == "Moved 40 mailboxes"
    refused(tenant.api.patch(f"{path}/{mine['id']}", json={"member_id": leaver.id}), "member_id")
    assert tenant.api.get(f"{path}/{mine['id']}").json["member_id"] == tenant.admin_id

    cabling = task(tenant.api, project(tenant.api, acme["id"])["id"])
    task_path = f"/api/v1/tasks/{cabling['id']}/time-entries"
    entry = tenant.api.post(task_path, json={"minutes": 60}).json
    refused(tenant.api.patch(f"{task_path}/{entry['id']}", json={"member_id": leaver.id}), "member_id")


def test_time_goes_only_to_a_tech_granted_the_client(tenant):
    """Bob looks after Bolt only: Acme's hours in his name are work he could not have been given."""
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Legal")
    bob = tenant.member("technician", grants=[bolt["id"]])
    ticket = open_ticket(tenant.api, acme["id"])
    refused(log(tenant.api, ticket["id"], member_id=bob.id), "member_id")
    mine = log(tenant.api, ticket["id"]).json
    path = f"/api/v1/tickets/{ticket['id']}/time-entries/{mine['id']}"
    refused(tenant.api.patch(path, json={"member_id": bob.id}), "member_id")

    cabling = task(tenant.api, project(tenant.api, acme["id"])["id"])
    body = {"minutes": 60, "member_id": bob.id}
    refused(tenant.api.post(f"/api/v1/tasks/{cabling['id']}/time-entries", json=body), "member_id")
    bolt_ticket = open_ticket(tenant.api, bolt["id"])
    assert log(tenant.api, bolt_ticket["id"], member_id=bob.id).status_code == 201


def test_an_install_from_before_keeps_its_entries_and_records_the_writer_of_new_ones(tenant, psa):
    acme = tenant.client("Acme Dental")
    t2 = tenant.member("technician", grants=[acme["id"]])
    ticket = open_ticket(tenant.api, acme["id"])
    old = log(t2.api, ticket["id"], member_id=tenant.admin_id).json
    with psa.as_owner("tickets") as db, db.proxy.connection_context():
        db.proxy.execute_sql('ALTER TABLE "timeentry" DROP COLUMN recorded_by_id')  # as entries were
    psa.service("tickets").bind(psa.settings)  # the next start

    path = f"/api/v1/tickets/{ticket['id']}/time-entries"
    assert tenant.api.get(f"{path}/{old['id']}").json["recorded_by_id"] is None  # nobody knows now
    new = log(t2.api, ticket["id"], member_id=tenant.admin_id).json
    writers = {i["time_entry_id"]: i["recorded_by"] for i in tenant.api.get(
        f"/api/v1/tickets/{ticket['id']}/timeline").json["items"] if i["kind"] == "time_entry"}  # fmt: skip
    assert writers == {old["id"]: None, new["id"]: {"id": t2.id, "name": "Technician"}}
