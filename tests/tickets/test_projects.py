"""Projects as an MSP runs them: an office move with phases, tasks, time on tasks and a schedule."""

import uuid

from .projects_seed import board, events, project, task, ticket
from .test_service_desk import apply


def test_office_move_gets_phases_and_tasks_and_announces_them(tenant, psa):
    acme = tenant.client("Acme Dental")
    move = project(tenant.api, acme["id"], name="Office move")
    phase = tenant.api.post(f"/api/v1/projects/{move['id']}/phases", json={"name": "Cabling", "position": 1})
    assert phase.status_code == 201, phase.json
    tech = tenant.member("technician", grants=[acme["id"]])
    made = task(
        tenant.api,
        move["id"],
        name="Cable 12 desks",
        phase_id=phase.json["id"],
        assignee_id=tech.id,
        estimate_minutes=480,
        priority="P2",
    )
    assert made["spent_minutes"] == 0 and made["phase_id"] == phase.json["id"]
    assert tenant.api.get(f"/api/v1/projects/{move['id']}/phases").json["items"][0]["name"] == "Cabling"
    assert [t["id"] for t in tenant.api.get(f"/api/v1/projects/{move['id']}/tasks").json["items"]] == [made["id"]]
    done = tenant.api.patch(f"/api/v1/tasks/{made['id']}", json={"done": True, "estimate_minutes": 420})
    assert done.status_code == 200 and done.json["done"] is True
    assert [e["name"] for e in events(psa, tenant, "project.created")] == ["Office move"]
    announced = events(psa, tenant, "task.updated")[-1]
    assert announced.pop("revised_at") > events(psa, tenant, "task.created")[0]["revised_at"]
    assert announced == {
        "id": made["id"],
        "project_id": move["id"],
        "client_id": acme["id"],
        "phase_id": phase.json["id"],
        "name": "Cable 12 desks",
        "assignee_id": tech.id,
        "priority": "P2",
        "estimate_minutes": 420,
        "spent_minutes": 0,
        "done": True,
        "due_at": None,
    }
    assert events(psa, tenant, "phase.created")[0]["client_id"] == acme["id"]


def test_projects_list_filters_by_client_and_closed(tenant):
    acme, bolt = tenant.client("Acme"), tenant.client("Bolt")
    a = project(tenant.api, acme["id"], name="Acme move")
    project(tenant.api, bolt["id"], name="Bolt upgrade")
    tenant.api.patch(f"/api/v1/projects/{a['id']}", json={"closed": True})
    by_client = tenant.api.get(f"/api/v1/projects?client_id={acme['id']}").json["items"]
    assert [p["name"] for p in by_client] == ["Acme move"]
    open_ones = tenant.api.get("/api/v1/projects?closed=false").json["items"]
    assert [p["name"] for p in open_ones] == ["Bolt upgrade"]


def test_tech_sees_only_projects_of_granted_clients(tenant):
    acme, bolt = tenant.client("Acme"), tenant.client("Bolt")
    mine, theirs = project(tenant.api, acme["id"]), project(tenant.api, bolt["id"])
    hidden_task = task(tenant.api, theirs["id"])
    tech = tenant.member("technician", grants=[acme["id"]])
    assert [p["id"] for p in tech.api.get("/api/v1/projects").json["items"]] == [mine["id"]]
    assert tech.api.get(f"/api/v1/projects/{theirs['id']}").status_code == 404
    assert tech.api.get(f"/api/v1/projects/{theirs['id']}/tasks").status_code == 404
    assert tech.api.get(f"/api/v1/tasks/{hidden_task['id']}").status_code == 404
    assert tech.api.patch(f"/api/v1/tasks/{hidden_task['id']}", json={"done": True}).status_code == 404
    moved = tech.api.patch(f"/api/v1/projects/{mine['id']}", json={"client_id": bolt["id"]})
    assert moved.status_code == 422 and "client_id" in moved.json["errors"]


def test_foreign_ids_in_a_task_body_are_refused_by_name_and_nothing_is_written(tenant, other_tenant, psa):
    acme = tenant.client("Acme")
    move = project(tenant.api, acme["id"])
    stranger = other_tenant.member("technician")
    other_move = project(other_tenant.api, other_tenant.client("Theirs")["id"])
    other_phase = other_tenant.api.post(f"/api/v1/projects/{other_move['id']}/phases", json={"name": "X"}).json
    cases = [
        ({"name": "t", "assignee_id": stranger.id}, "assignee_id"),
        ({"name": "t", "phase_id": other_phase["id"]}, "phase_id"),
        ({"name": "t", "priority": "P9"}, "priority"),
        ({"name": "t", "estimate_minutes": -5}, "estimate_minutes"),
        ({"name": ""}, "name"),
    ]
    for body, field in cases:
        response = tenant.api.post(f"/api/v1/projects/{move['id']}/tasks", json=body)
        assert response.status_code == 422, (body, response.json)
        assert response.content_type == "application/problem+json"
        assert field in response.json["errors"], (field, response.json)
    assert tenant.api.get(f"/api/v1/projects/{move['id']}/tasks").json["items"] == []
    assert events(psa, tenant, "task.created") == []
    other_board = board(psa, other_tenant)
    refused = tenant.api.post("/api/v1/projects", json={"client_id": acme["id"], "name": "x", "board_id": other_board})
    assert refused.status_code == 422 and "board_id" in refused.json["errors"]


def test_zero_minute_call_on_a_task_is_logged_and_spent_minutes_follow(tenant, psa):
    acme = tenant.client("Acme")
    cabling = task(tenant.api, project(tenant.api, acme["id"])["id"], estimate_minutes=120)
    path = f"/api/v1/tasks/{cabling['id']}/time-entries"
    call = {"minutes": 0, "started_at": "2026-03-02T09:00:00Z", "notes": "Called site contact. Left voicemail."}
    assert tenant.api.post(path, json=call).status_code == 201
    work = {"minutes": 90, "started_at": "2026-03-03T09:00:00Z", "billing": "no_charge", "internal_notes": "slow"}
    logged = tenant.api.post(path, json=work)
    assert logged.status_code == 201, logged.json
    assert logged.json["member_id"] == tenant.admin_id and logged.json["task_id"] == cabling["id"]
    assert tenant.api.get(f"/api/v1/tasks/{cabling['id']}").json["spent_minutes"] == 90
    assert len(tenant.api.get(path).json["items"]) == 2
    event = events(psa, tenant, "time_entry.logged")[-1]
    assert event["client_id"] == acme["id"] and event["task_id"] == cabling["id"] and event["ticket_id"] is None
    assert "internal_notes" not in event and event["billing"] == "no_charge"


def test_bad_task_time_is_refused_by_field_and_spent_minutes_stay(tenant, other_tenant):
    cabling = task(tenant.api, project(tenant.api, tenant.client("Acme")["id"])["id"])
    path = f"/api/v1/tasks/{cabling['id']}/time-entries"
    stranger = other_tenant.member("technician")
    start = "2026-03-02T09:00:00Z"
    cases = [
        ({"minutes": -1, "started_at": start}, "minutes"),
        ({"minutes": 1441, "started_at": start}, "minutes"),
        ({"minutes": 1.5, "started_at": start}, "minutes"),
        ({"minutes": 10, "started_at": start, "billing": "free"}, "billing"),
        ({"minutes": 10, "started_at": start, "outcome": "maybe"}, "outcome"),
        ({"minutes": 10, "started_at": "2026-03-02T09:00:00"}, "started_at"),
        ({"minutes": 10, "started_at": start, "member_id": stranger.id}, "member_id"),
    ]
    for body, field in cases:
        response = tenant.api.post(path, json=body)
        assert response.status_code == 422, (body, response.json)
        assert field in response.json["errors"], (field, response.json)
    assert tenant.api.get(path).json["items"] == []
    assert tenant.api.get(f"/api/v1/tasks/{cabling['id']}").json["spent_minutes"] == 0


def test_tech_books_a_morning_on_a_ticket_and_moves_it(tenant, psa):
    acme = tenant.client("Acme")
    tech = tenant.member("technician", grants=[acme["id"]])
    ticket_id = ticket(psa, tenant, acme["id"], board(psa, tenant))
    booked = tenant.api.post(
        "/api/v1/schedule",
        json={"member_id": tech.id, "starts_at": "2026-03-02T08:00:00Z", "minutes": 240, "ticket_id": ticket_id},
    )
    assert booked.status_code == 201, booked.json
    entry = booked.json["id"]
    moved = tenant.api.patch(f"/api/v1/schedule/{entry}", json={"starts_at": "2026-03-03T08:00:00Z"})
    assert moved.status_code == 200 and moved.json["starts_at"] == "2026-03-03T08:00:00Z"
    listed = tenant.api.get(f"/api/v1/schedule?member_id={tech.id}&from=2026-03-03T00:00:00Z&to=2026-03-04T00:00:00Z")
    assert [e["id"] for e in listed.json["items"]] == [entry]
    assert tenant.api.get("/api/v1/schedule?from=2026-03-04T00:00:00Z").json["items"] == []
    assert tenant.api.delete(f"/api/v1/schedule/{entry}").status_code == 204
    assert tenant.api.get(f"/api/v1/schedule/{entry}").status_code == 404
    assert [len(events(psa, tenant, f"schedule.{n}")) for n in ("created", "updated", "deleted")] == [1, 1, 1]


def test_schedule_refuses_foreign_targets_and_hides_ungranted_bookings(tenant, other_tenant, psa):
    acme, bolt = tenant.client("Acme"), tenant.client("Bolt")
    tech = tenant.member("technician", grants=[acme["id"]])
    bolt_task = task(tenant.api, project(tenant.api, bolt["id"])["id"])
    stranger = other_tenant.admin_id
    theirs = ticket(psa, other_tenant, other_tenant.client("X")["id"], board(psa, other_tenant))
    start = "2026-03-02T08:00:00Z"
    cases = [
        ({"member_id": tech.id, "starts_at": start, "minutes": 60, "ticket_id": theirs}, "ticket_id"),
        ({"member_id": tech.id, "starts_at": start, "minutes": 60}, "ticket_id"),
        ({"member_id": stranger, "starts_at": start, "minutes": 60, "task_id": bolt_task["id"]}, "member_id"),
        ({"member_id": tech.id, "starts_at": start, "minutes": 0, "task_id": bolt_task["id"]}, "minutes"),
    ]
    for body, field in cases:
        response = tenant.api.post("/api/v1/schedule", json=body)
        assert response.status_code == 422, (body, response.json)
        assert field in response.json["errors"], (field, response.json)
    refused = tech.api.post(
        "/api/v1/schedule", json={"member_id": tech.id, "starts_at": start, "minutes": 60, "task_id": bolt_task["id"]}
    )
    assert refused.status_code == 422 and "task_id" in refused.json["errors"]
    # booked on Bolt's task while granted Bolt, then Bolt withdrawn: the booking is hidden from him
    grants = f"/api/v1/members/{tech.id}/grants"
    both = {"all_clients": False, "client_ids": [acme["id"], bolt["id"]]}
    assert tenant.api.put(grants, json=both).status_code == 200
    booked = tenant.api.post(
        "/api/v1/schedule", json={"member_id": tech.id, "starts_at": start, "minutes": 60, "task_id": bolt_task["id"]}
    ).json
    assert tenant.api.put(grants, json={"all_clients": False, "client_ids": [acme["id"]]}).status_code == 200
    assert tech.api.get("/api/v1/schedule").json["items"] == []
    assert tech.api.get(f"/api/v1/schedule/{booked['id']}").status_code == 404
    assert tech.api.delete(f"/api/v1/schedule/{booked['id']}").status_code == 404
    assert len(tenant.api.get("/api/v1/schedule").json["items"]) == 1


def test_a_typo_on_task_time_is_corrected_and_a_duplicate_deleted(tenant, psa):
    """480 minutes typed for 48: the task's spent minutes, and so the pipe, follow the correction."""
    acme = tenant.client("Acme")
    cabling = task(tenant.api, project(tenant.api, acme["id"])["id"], estimate_minutes=600)
    path = f"/api/v1/tasks/{cabling['id']}/time-entries"
    typo, twice = (
        tenant.api.post(path, json={"minutes": m, "started_at": "2026-03-02T09:00:00Z"}).json for m in (480, 30)
    )
    assert tenant.api.get(f"/api/v1/tasks/{cabling['id']}").json["spent_minutes"] == 510

    fixed = tenant.api.patch(f"{path}/{typo['id']}", json={"minutes": 48, "notes": "Patched 4 desks"})
    assert fixed.status_code == 200, fixed.json
    assert (fixed.json["minutes"], fixed.json["task_id"]) == (48, cabling["id"])
    assert tenant.api.delete(f"{path}/{twice['id']}").status_code == 204
    assert tenant.api.get(f"{path}/{twice['id']}").status_code == 404
    assert tenant.api.get(f"/api/v1/tasks/{cabling['id']}").json["spent_minutes"] == 48
    assert [e["minutes"] for e in events(psa, tenant, "time_entry.updated")] == [48]
    assert [e["id"] for e in events(psa, tenant, "time_entry.deleted")] == [twice["id"]]

    other_task = task(tenant.api, project(tenant.api, acme["id"])["id"])
    assert tenant.api.get(f"/api/v1/tasks/{other_task['id']}/time-entries/{typo['id']}").status_code == 404
    refused = tenant.api.patch(f"{path}/{typo['id']}", json={"minutes": -1})
    assert refused.status_code == 422 and "minutes" in refused.json["errors"]


def test_billed_task_time_stays_and_ungranted_techs_cannot_touch_it(tenant, psa):
    acme, bolt = tenant.client("Acme"), tenant.client("Bolt")
    cabling = task(tenant.api, project(tenant.api, bolt["id"])["id"])
    path = f"/api/v1/tasks/{cabling['id']}/time-entries"
    entry = tenant.api.post(path, json={"minutes": 60, "started_at": "2026-03-02T09:00:00Z"}).json
    tech = tenant.member("technician", grants=[acme["id"]])
    assert tech.api.get(f"{path}/{entry['id']}").status_code == 404
    assert tech.api.patch(f"{path}/{entry['id']}", json={"minutes": 1}).status_code == 404
    assert tech.api.delete(f"{path}/{entry['id']}").status_code == 404

    posted = {"invoice_id": str(uuid.uuid4()), "number": "INV-7", "client_id": bolt["id"],
              "time_entry_ids": [entry["id"]], "total": "120.00", "currency": "USD"}  # fmt: skip
    apply(psa, "invoice.posted", tenant.id, posted)
    assert tenant.api.patch(f"{path}/{entry['id']}", json={"minutes": 1}).status_code == 409
    assert tenant.api.delete(f"{path}/{entry['id']}").status_code == 409
    assert tenant.api.get(f"/api/v1/tasks/{cabling['id']}").json["spent_minutes"] == 60


def test_a_project_moved_to_another_client_keeps_its_billed_time_from_that_clients_techs(tenant, psa):
    """Bolt's billed hour stays Bolt's when the project moves to Acme: a tech granted Acme alone
    sees the project and its new time, not Bolt's hour (until 2026-11-27 it read it, notes and all)."""
    acme, bolt = tenant.client("Acme"), tenant.client("Bolt")
    move = project(tenant.api, bolt["id"])
    cabling = task(tenant.api, move["id"])
    path = f"/api/v1/tasks/{cabling['id']}/time-entries"
    billed = tenant.api.post(path, json={"minutes": 60, "notes": "Bolt's racks", "started_at": "2026-03-02T09:00:00Z"})
    posted = {"invoice_id": str(uuid.uuid4()), "number": "INV-8", "client_id": bolt["id"],
              "time_entry_ids": [billed.json["id"]], "total": "120.00", "currency": "USD"}  # fmt: skip
    apply(psa, "invoice.posted", tenant.id, posted)
    assert tenant.api.patch(f"/api/v1/projects/{move['id']}", json={"client_id": acme["id"]}).status_code == 200
    acmes = tenant.api.post(path, json={"minutes": 30, "started_at": "2026-03-03T09:00:00Z"}).json
    tech = tenant.member("technician", grants=[acme["id"]])

    assert [e["id"] for e in tech.api.get(path).json["items"]] == [acmes["id"]]
    for call in (tech.api.get, tech.api.delete):
        assert call(f"{path}/{billed.json['id']}").status_code == 404
    assert tech.api.patch(f"{path}/{billed.json['id']}", json={"minutes": 1}).status_code == 404
    assert tech.api.get(f"{path}/{acmes['id']}").status_code == 200
    assert {e["id"] for e in tenant.api.get(path).json["items"]} == {billed.json["id"], acmes["id"]}


def test_a_task_cannot_be_handed_to_a_tech_who_has_left(tenant):
    move = project(tenant.api, tenant.client("Acme")["id"])
    dana = tenant.member("technician", all_clients=True)
    cabling = task(tenant.api, move["id"], assignee_id=dana.id)
    assert tenant.api.post(f"/api/v1/members/{dana.id}/deactivate").status_code == 200

    kept = tenant.api.patch(f"/api/v1/tasks/{cabling['id']}", json={"assignee_id": dana.id, "estimate_minutes": 90})
    assert kept.status_code == 200 and kept.json["assignee_id"] == dana.id  # hers until reassigned
    refused = tenant.api.post(f"/api/v1/projects/{move['id']}/tasks", json={"name": "Patch", "assignee_id": dana.id})
    assert refused.status_code == 422 and "assignee_id" in refused.json["errors"]
    assert tenant.api.patch(f"/api/v1/tasks/{cabling['id']}", json={"assignee_id": None}).status_code == 200
    again = tenant.api.patch(f"/api/v1/tasks/{cabling['id']}", json={"assignee_id": dana.id})
    assert again.status_code == 422 and "assignee_id" in again.json["errors"]
    assert [t["name"] for t in tenant.api.get(f"/api/v1/projects/{move['id']}/tasks").json["items"]] == ["Cable desks"]
