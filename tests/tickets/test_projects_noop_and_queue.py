"""A save that changes nothing costs billing and the vault nothing; work a leaver still holds
reaches the dispatcher's "needs someone" queue instead of sitting in a queue nobody reads."""

import logging

import pytest

from .projects_seed import board, events, project, task, ticket


@pytest.fixture
def updates(caplog):
    """The tables an UPDATE statement was sent to since the last call (peewee logs each one)."""
    caplog.set_level(logging.DEBUG, logger="peewee")

    def sent() -> list[str]:
        statements = [r.msg[0] for r in caplog.records if r.name == "peewee" and isinstance(r.msg, tuple)]
        caplog.clear()
        return [s.split('"')[1] for s in statements if s.startswith("UPDATE ")]

    return sent


def test_saving_the_office_move_unchanged_writes_nothing_and_tells_nobody(tenant, psa, updates):
    """The dispatcher opens the office move and presses Save without touching a field."""
    acme = tenant.client("Acme Dental")
    move = project(tenant.api, acme["id"], name="Office move", board_id=board(psa, tenant))
    path = f"/api/v1/projects/{move['id']}"
    as_it_is = {k: move[k] for k in ("name", "closed", "board_id", "client_id")}
    updates()

    saved = tenant.api.patch(path, json=as_it_is)

    assert saved.status_code == 200 and saved.json == move
    assert updates() == [] and events(psa, tenant, "project.updated") == []
    renamed = tenant.api.patch(path, json={**as_it_is, "name": "Office move, 2nd floor"})
    assert renamed.status_code == 200 and renamed.json["name"] == "Office move, 2nd floor"
    assert "project" in updates()
    assert [e["name"] for e in events(psa, tenant, "project.updated")] == ["Office move, 2nd floor"]


def test_saving_a_task_unchanged_writes_nothing_even_when_its_due_time_is_given_in_another_zone(tenant, psa, updates):
    """Ann's cabling task, saved as it is by a dispatcher in Amsterdam (the due time in +01:00)."""
    acme = tenant.client("Acme Dental")
    ann = tenant.member("technician", grants=[acme["id"]])
    move = project(tenant.api, acme["id"])
    cabling_phase = tenant.api.post(f"/api/v1/projects/{move['id']}/phases", json={"name": "Cabling"}).json
    cabling = task(
        tenant.api,
        move["id"],
        phase_id=cabling_phase["id"],
        assignee_id=ann.id,
        priority="P2",
        estimate_minutes=480,
        due_at="2026-03-04T09:00:00Z",
    )
    path = f"/api/v1/tasks/{cabling['id']}"
    same = {k: cabling[k] for k in ("name", "phase_id", "assignee_id", "priority", "estimate_minutes", "done")}
    updates()

    saved = tenant.api.patch(path, json={**same, "assignee_id": ann.id.upper(), "due_at": "2026-03-04T10:00:00+01:00"})

    assert saved.status_code == 200 and saved.json == cabling
    assert updates() == [] and events(psa, tenant, "task.updated") == []
    done = tenant.api.patch(path, json={**same, "done": True})
    assert done.status_code == 200 and done.json["done"] is True
    assert "task" in updates()
    assert [e["done"] for e in events(psa, tenant, "task.updated")] == [True]


def test_saving_a_booking_unchanged_writes_nothing_and_a_real_move_is_still_announced(tenant, psa, updates):
    acme = tenant.client("Acme Dental")
    tom = tenant.member("technician", grants=[acme["id"]])
    server = ticket(psa, tenant, acme["id"], board(psa, tenant), summary="Server migration")
    monday = {"member_id": tom.id, "starts_at": "2026-03-02T08:00:00Z", "minutes": 240, "ticket_id": server}
    booked = tenant.api.post("/api/v1/schedule", json=monday).json
    path = f"/api/v1/schedule/{booked['id']}"
    updates()

    saved = tenant.api.patch(path, json={**monday, "starts_at": "2026-03-02T09:00:00+01:00", "task_id": None})

    assert saved.status_code == 200 and saved.json == booked
    assert updates() == [] and events(psa, tenant, "schedule.updated") == []
    moved = tenant.api.patch(path, json={**monday, "starts_at": "2026-03-03T08:00:00Z"})
    assert moved.status_code == 200 and moved.json["starts_at"] == "2026-03-03T08:00:00Z"
    assert "scheduleentry" in updates()
    assert [e["starts_at"] for e in events(psa, tenant, "schedule.updated")] == ["2026-03-03T08:00:00Z"]


def _queue(api, query="unassigned=true") -> dict:
    answer = api.get(f"/api/v1/work?{query}")
    assert answer.status_code == 200, answer.json
    return {item["id"]: item for item in answer.json["items"]}


def test_work_of_a_technician_who_left_shows_as_unassigned_and_says_why(tenant, psa):
    """Tom left the MSP with a printer ticket and a cabling task open. Until someone else takes
    them they belong in the dispatcher's "needs someone" list, marked as a leaver's; Ann's work
    stays in Ann's queue."""
    acme = tenant.client("Acme Dental")
    desk = board(psa, tenant)
    tom, ann = (tenant.member("technician", grants=[acme["id"]]) for _ in range(2))
    move = project(tenant.api, acme["id"])
    toms_ticket = ticket(psa, tenant, acme["id"], desk, assignee=tom.id, summary="Printer jams")
    toms_task = task(tenant.api, move["id"], assignee_id=tom.id)["id"]
    anns_ticket = ticket(psa, tenant, acme["id"], desk, assignee=ann.id)
    anns_task = task(tenant.api, move["id"], assignee_id=ann.id)["id"]
    nobodys = ticket(psa, tenant, acme["id"], desk)
    ticket(psa, tenant, acme["id"], desk, assignee=tom.id, kind="closed")
    task(tenant.api, move["id"], assignee_id=tom.id, done=True)
    assert set(_queue(tenant.api)) == {nobodys}

    assert tenant.api.post(f"/api/v1/members/{tom.id}/deactivate").status_code == 200

    unassigned = _queue(tenant.api)
    assert set(unassigned) == {nobodys, toms_ticket, toms_task}
    assert unassigned[toms_ticket]["assignee_id"] == tom.id and unassigned[toms_ticket]["assignee_active"] is False
    assert unassigned[toms_task]["assignee_id"] == tom.id and unassigned[toms_task]["assignee_active"] is False
    assert unassigned[nobodys]["assignee_id"] is None and unassigned[nobodys]["assignee_active"] is None
    assert set(_queue(tenant.api, f"member_id={tom.id}")) == {toms_ticket, toms_task}
    anns = _queue(tenant.api, f"member_id={ann.id}")
    assert set(anns) == {anns_ticket, anns_task} and all(i["assignee_active"] is True for i in anns.values())
    assert _queue(tenant.api, "")[toms_task]["assignee_active"] is False


def test_another_msps_leaver_never_shows_in_our_queue(tenant, other_tenant, psa):
    acme = tenant.client("Acme Dental")
    ours = ticket(psa, tenant, acme["id"], board(psa, tenant))
    theirs = other_tenant.client("Their client")
    gone = other_tenant.member("technician", grants=[theirs["id"]])
    their_ticket = ticket(psa, other_tenant, theirs["id"], board(psa, other_tenant), assignee=gone.id)
    their_task = task(other_tenant.api, project(other_tenant.api, theirs["id"])["id"], assignee_id=gone.id)["id"]
    assert other_tenant.api.post(f"/api/v1/members/{gone.id}/deactivate").status_code == 200

    assert set(_queue(tenant.api)) == {ours}
    assert set(_queue(tenant.api, f"member_id={gone.id}")) == set()
    assert set(_queue(other_tenant.api)) == {their_ticket, their_task}
