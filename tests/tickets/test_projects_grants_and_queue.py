"""Who may be given a client's project work, what the dispatcher's queue says of unheld work, and
time on a closed project: the stories behind the grant check on task assignees and bookings."""

from .projects_seed import board, events, project, task, ticket

MONDAY = "2026-03-02T08:00:00Z"


def refused(response, field: str, status: int = 422) -> None:
    assert response.status_code == status, response.json
    assert response.content_type == "application/problem+json"
    assert field in response.json["errors"], response.json


def regrant(tenant, member_id, *client_ids) -> None:
    body = {"all_clients": False, "client_ids": list(client_ids)}
    assert tenant.api.put(f"/api/v1/members/{member_id}/grants", json=body).status_code == 200


def test_tech_without_acmes_grant_cannot_be_given_acmes_migration_task(tenant, psa):
    """Bob looks after Bolt only: he cannot see Acme's project, so a task of it in his name would
    sit in a queue he cannot open. Ann, granted Acme, takes it."""
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Legal")
    bob = tenant.member("technician", grants=[bolt["id"]])
    ann = tenant.member("technician", grants=[acme["id"]])
    migration = project(tenant.api, acme["id"], name="Mail migration")
    path = f"/api/v1/projects/{migration['id']}/tasks"

    refused(tenant.api.post(path, json={"name": "Move mailboxes", "assignee_id": bob.id}), "assignee_id")
    assert tenant.api.get(path).json["items"] == []
    assert events(psa, tenant, "task.created") == []

    made = tenant.api.post(path, json={"name": "Move mailboxes", "assignee_id": ann.id})
    assert made.status_code == 201 and made.json["assignee_id"] == ann.id


def test_dispatcher_cannot_hand_acmes_task_to_a_tech_without_the_grant_until_granted(tenant, psa):
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Legal")
    bob = tenant.member("technician", grants=[bolt["id"]])
    mailboxes = task(tenant.api, project(tenant.api, acme["id"])["id"], name="Move mailboxes")
    path = f"/api/v1/tasks/{mailboxes['id']}"

    refused(tenant.api.patch(path, json={"assignee_id": bob.id, "priority": "P1"}), "assignee_id")
    assert tenant.api.get(path).json == mailboxes  # nothing written, the priority included
    assert events(psa, tenant, "task.updated") == []

    regrant(tenant, bob.id, bolt["id"], acme["id"])
    handed = tenant.api.patch(path, json={"assignee_id": bob.id})
    assert handed.status_code == 200 and handed.json["assignee_id"] == bob.id
    assert bob.api.get(path).status_code == 200  # and he can open what he was given


def test_a_tech_who_sees_every_client_can_be_given_any_task(tenant):
    carol = tenant.member("technician", all_clients=True)
    made = task(tenant.api, project(tenant.api, tenant.client("Acme")["id"])["id"], assignee_id=carol.id)
    assert made["assignee_id"] == carol.id


def test_tech_without_acmes_grant_cannot_be_booked_on_acmes_ticket_or_task(tenant, psa):
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Legal")
    bob = tenant.member("technician", grants=[bolt["id"]])
    acme_ticket = ticket(psa, tenant, acme["id"], board(psa, tenant))
    acme_task = task(tenant.api, project(tenant.api, acme["id"])["id"])
    morning = {"member_id": bob.id, "starts_at": MONDAY, "minutes": 240}

    refused(tenant.api.post("/api/v1/schedule", json={**morning, "ticket_id": acme_ticket}), "member_id")
    refused(tenant.api.post("/api/v1/schedule", json={**morning, "task_id": acme_task["id"]}), "member_id")
    assert tenant.api.get("/api/v1/schedule").json["items"] == []
    assert events(psa, tenant, "schedule.created") == []


def test_a_booking_cannot_be_handed_or_retargeted_to_a_client_the_tech_is_not_granted(tenant, psa):
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Legal")
    ann = tenant.member("technician", grants=[acme["id"], bolt["id"]])
    bob = tenant.member("technician", grants=[bolt["id"]])
    desk = board(psa, tenant)
    acme_ticket, bolt_ticket = ticket(psa, tenant, acme["id"], desk), ticket(psa, tenant, bolt["id"], desk)
    anns = tenant.api.post(
        "/api/v1/schedule", json={"member_id": ann.id, "starts_at": MONDAY, "minutes": 60, "ticket_id": acme_ticket}
    ).json
    bobs = tenant.api.post(
        "/api/v1/schedule", json={"member_id": bob.id, "starts_at": MONDAY, "minutes": 60, "ticket_id": bolt_ticket}
    ).json

    refused(tenant.api.patch(f"/api/v1/schedule/{anns['id']}", json={"member_id": bob.id}), "member_id")
    refused(tenant.api.patch(f"/api/v1/schedule/{bobs['id']}", json={"ticket_id": acme_ticket}), "member_id")
    assert tenant.api.get(f"/api/v1/schedule/{anns['id']}").json == anns
    assert tenant.api.get(f"/api/v1/schedule/{bobs['id']}").json == bobs
    assert events(psa, tenant, "schedule.updated") == []


def test_a_booking_made_before_the_grant_was_withdrawn_can_still_be_moved_or_handed_on(tenant, psa):
    """As with a leaver's booking: it is not lost, it is moved or handed to someone who may go."""
    acme = tenant.client("Acme Dental")
    bob, ann = (tenant.member("technician", grants=[acme["id"]]) for _ in range(2))
    printer = ticket(psa, tenant, acme["id"], board(psa, tenant))
    booked = tenant.api.post(
        "/api/v1/schedule", json={"member_id": bob.id, "starts_at": MONDAY, "minutes": 60, "ticket_id": printer}
    ).json
    regrant(tenant, bob.id)
    moved = tenant.api.patch(f"/api/v1/schedule/{booked['id']}", json={"starts_at": "2026-03-03T08:00:00Z"})
    assert moved.status_code == 200, moved.json
    handed = tenant.api.patch(f"/api/v1/schedule/{booked['id']}", json={"member_id": ann.id})
    assert handed.status_code == 200 and handed.json["member_id"] == ann.id


def test_another_msps_all_clients_admin_cannot_be_given_our_task_or_booking(tenant, other_tenant, psa):
    acme = tenant.client("Acme Dental")
    mailboxes = task(tenant.api, project(tenant.api, acme["id"])["id"])
    stranger = other_tenant.admin_id  # sees every client of *their* MSP
    refused(tenant.api.patch(f"/api/v1/tasks/{mailboxes['id']}", json={"assignee_id": stranger}), "assignee_id")
    body = {"member_id": stranger, "starts_at": MONDAY, "minutes": 60, "task_id": mailboxes["id"]}
    refused(tenant.api.post("/api/v1/schedule", json=body), "member_id")
    assert events(psa, tenant, "task.updated") == [] and events(psa, tenant, "schedule.created") == []


def test_dispatchers_unassigned_queue_shows_assignee_active_null(tenant, psa):
    acme = tenant.client("Acme Dental")
    ann = tenant.member("technician", grants=[acme["id"]])
    desk = board(psa, tenant)
    printer = ticket(psa, tenant, acme["id"], desk, summary="Printer jams")
    cabling = task(tenant.api, project(tenant.api, acme["id"])["id"])["id"]
    anns = ticket(psa, tenant, acme["id"], desk, assignee=ann.id)

    unheld = tenant.api.get("/api/v1/work?unassigned=true").json["items"]
    assert {i["id"]: i["assignee_active"] for i in unheld} == {printer: None, cabling: None}
    everything = {i["id"]: i for i in tenant.api.get("/api/v1/work").json["items"]}
    assert everything[anns]["assignee_active"] is True and everything[printer]["assignee_active"] is None

    documented = psa.http.get("/openapi/tickets.json").json["components"]["schemas"]["WorkItem"]
    assert "null" in documented["properties"]["assignee_active"]["type"]
    assert "assignee_active" in documented["required"]


def test_time_on_a_closed_projects_task_is_refused_until_the_project_is_reopened(tenant, psa):
    """The project was closed and its final invoice sent: an hour logged on it now would be
    unbilled work nobody looks for. Reopen the project to log it (and bill it) knowingly."""
    acme = tenant.client("Acme Dental")
    move = project(tenant.api, acme["id"])
    cabling = task(tenant.api, move["id"], estimate_minutes=120)
    path = f"/api/v1/tasks/{cabling['id']}/time-entries"
    assert tenant.api.patch(f"/api/v1/projects/{move['id']}", json={"closed": True}).status_code == 200

    late = tenant.api.post(path, json={"minutes": 60, "started_at": "2026-03-02T09:00:00Z"})
    refused(late, "project_id", status=409)
    assert "closed" in late.json["detail"]
    assert tenant.api.get(path).json["items"] == []
    assert tenant.api.get(f"/api/v1/tasks/{cabling['id']}").json["spent_minutes"] == 0
    assert events(psa, tenant, "time_entry.logged") == []

    assert tenant.api.patch(f"/api/v1/projects/{move['id']}", json={"closed": False}).status_code == 200
    assert tenant.api.post(path, json={"minutes": 60, "started_at": "2026-03-02T09:00:00Z"}).status_code == 201


def test_time_on_a_done_task_is_still_logged(tenant):
    """Techs tick a task done and then write their time, or add the wrap-up call after: a done
    task in an open project still takes time (the backlog no longer counts it either way)."""
    cabling = task(tenant.api, project(tenant.api, tenant.client("Acme")["id"])["id"], done=True)
    logged = tenant.api.post(f"/api/v1/tasks/{cabling['id']}/time-entries", json={"minutes": 15})
    assert logged.status_code == 201, logged.json
    assert tenant.api.get(f"/api/v1/tasks/{cabling['id']}").json["spent_minutes"] == 15
