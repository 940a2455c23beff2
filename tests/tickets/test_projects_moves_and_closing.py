"""A project moved to another client, or closed, and the work on it: who may still hold its tasks
and bookings after a move, no booking on a closed project, a task's spent minutes sent with the
time logged on it, its phases re-sent with the new client, and the project's lock between these
writers (each story failed before its fix, on both backends)."""

import datetime as dt
import uuid

from psa_shared import events as catalogue
from psa_shared.events import Event

from .projects_seed import events, project, task

TOMORROW = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%dT09:00:00Z")
LAST_WEEK = (dt.datetime.now(dt.UTC) - dt.timedelta(days=7)).strftime("%Y-%m-%dT09:00:00Z")
MOVE_EVENTS = ("project.updated", "task.updated", "schedule.updated", "phase.updated", "time_entry.updated")


def refused(response, field: str, status: int = 422) -> None:
    assert response.status_code == status, response.json
    assert response.content_type == "application/problem+json"
    assert field in response.json["errors"], response.json


def named(tenant, name: str, **grants):
    tech = tenant.member("technician", **grants)
    assert tenant.api.patch(f"/api/v1/members/{tech.id}", json={"name": name}).status_code == 200
    return tech


def book(tenant, member, starts_at=TOMORROW, **target):
    return tenant.api.post(
        "/api/v1/schedule", json={"member_id": member.id, "starts_at": starts_at, "minutes": 120, **target}
    )


def nothing_sent_for_a_move(psa, tenant) -> None:
    for kind in MOVE_EVENTS:
        assert events(psa, tenant, kind) == [], kind


# -- 1. a move re-checks who holds the project's work -------------------------------------------


def test_moving_acmes_migration_to_bolt_is_refused_while_a_tech_without_bolts_grant_holds_its_tasks(tenant, psa):
    """The migration was opened for Acme by mistake; it is Bolt's. Ann (Acme only) holds two of
    its open tasks and a booking tomorrow: moved, she would hold Bolt's work in a queue she cannot
    open. Until 2026-11-27 the move went through without a look at who held the work."""
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Legal")
    ann = named(tenant, "Ann Archer", grants=[acme["id"]])
    migration = project(tenant.api, acme["id"], name="Mail migration")
    mx = task(tenant.api, migration["id"], name="Cut over MX", assignee_id=ann.id)
    task(tenant.api, migration["id"], name="Move mailboxes", assignee_id=ann.id)
    assert book(tenant, ann, task_id=mx["id"]).status_code == 201
    path = f"/api/v1/projects/{migration['id']}"

    moved = tenant.api.patch(path, json={"client_id": bolt["id"], "name": "Mail migration (Bolt)"})

    refused(moved, "client_id")
    (message,) = moved.json["errors"]["client_id"]
    assert "Ann Archer" in message and "2 open tasks" in message and "1 booking" in message, message
    assert tenant.api.get(path).json == migration  # the name was not written either
    nothing_sent_for_a_move(psa, tenant)

    both = {"all_clients": False, "client_ids": [acme["id"], bolt["id"]]}
    assert tenant.api.put(f"/api/v1/members/{ann.id}/grants", json=both).status_code == 200
    assert tenant.api.patch(path, json={"client_id": bolt["id"]}).status_code == 200


def test_a_booking_alone_blocks_the_move_and_names_the_tech(tenant, psa):
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Legal")
    bob = named(tenant, "Bob Baker", grants=[acme["id"]])
    migration = project(tenant.api, acme["id"])
    mx = task(tenant.api, migration["id"])  # nobody holds the task
    assert book(tenant, bob, task_id=mx["id"]).status_code == 201

    moved = tenant.api.patch(f"/api/v1/projects/{migration['id']}", json={"client_id": bolt["id"]})

    refused(moved, "client_id")
    (message,) = moved.json["errors"]["client_id"]
    assert "Bob Baker" in message and "1 booking" in message and "task" not in message.split("holds")[1][:12]
    nothing_sent_for_a_move(psa, tenant)


def test_done_tasks_past_bookings_and_techs_who_see_bolt_do_not_block_the_move(tenant, psa):
    """Finished work stays history: Ann's done task and last week's booking travel with the
    project; Carol sees every client and Dan is granted Bolt, so their open work may move."""
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Legal")
    ann = tenant.member("technician", grants=[acme["id"]])
    carol = tenant.member("technician", all_clients=True)
    dan = tenant.member("technician", grants=[acme["id"], bolt["id"]])
    migration = project(tenant.api, acme["id"])
    done = task(tenant.api, migration["id"], assignee_id=ann.id, done=True)
    assert book(tenant, ann, starts_at=LAST_WEEK, task_id=done["id"]).status_code == 201
    task(tenant.api, migration["id"], assignee_id=carol.id)
    open_task = task(tenant.api, migration["id"], assignee_id=dan.id)
    assert book(tenant, dan, task_id=open_task["id"]).status_code == 201

    moved = tenant.api.patch(f"/api/v1/projects/{migration['id']}", json={"client_id": bolt["id"]})

    assert moved.status_code == 200, moved.json
    assert moved.json["client_id"] == bolt["id"]
    assert len(events(psa, tenant, "task.updated")) == 3 and len(events(psa, tenant, "schedule.updated")) == 2


def test_history_that_moved_with_the_project_cannot_be_made_work_again_for_a_tech_without_the_grant(tenant, psa):
    """Ann's done task and last week's visit moved to Bolt as history. Reopening the task, or moving
    the visit to next week, would hand her Bolt work she cannot open: refused, naming what the
    PATCH changed (until 2026-11-27 both were accepted). Handed to Carol, the task reopens."""
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Legal")
    ann = tenant.member("technician", grants=[acme["id"]])
    carol = tenant.member("technician", all_clients=True)
    migration = project(tenant.api, acme["id"])
    done = task(tenant.api, migration["id"], assignee_id=ann.id, done=True)
    visit = book(tenant, ann, starts_at=LAST_WEEK, task_id=done["id"]).json
    assert tenant.api.patch(f"/api/v1/projects/{migration['id']}", json={"client_id": bolt["id"]}).status_code == 200

    refused(tenant.api.patch(f"/api/v1/tasks/{done['id']}", json={"done": False}), "done")
    refused(tenant.api.patch(f"/api/v1/schedule/{visit['id']}", json={"starts_at": TOMORROW}), "starts_at")
    refused(tenant.api.patch(f"/api/v1/schedule/{visit['id']}", json={"minutes": 60 * 24 * 9}), "minutes")
    assert tenant.api.get(f"/api/v1/tasks/{done['id']}").json["done"] is True
    assert tenant.api.get(f"/api/v1/schedule/{visit['id']}").json["starts_at"] == LAST_WEEK
    assert tenant.api.get("/api/v1/work", query_string={"member_id": ann.id}).json["items"] == []
    # what stays history may still be corrected, and the task reopens for someone who sees Bolt
    assert tenant.api.patch(f"/api/v1/schedule/{visit['id']}", json={"minutes": 90}).status_code == 200
    handed = tenant.api.patch(f"/api/v1/tasks/{done['id']}", json={"done": False, "assignee_id": carol.id})
    assert handed.status_code == 200 and handed.json["done"] is False


def test_a_move_to_another_msps_client_is_not_found_and_writes_nothing(tenant, other_tenant, psa):
    acme = tenant.client("Acme Dental")
    theirs = other_tenant.client("Their Client")
    carol = tenant.member("technician", all_clients=True)
    migration = project(tenant.api, acme["id"])
    task(tenant.api, migration["id"], assignee_id=carol.id)

    moved = tenant.api.patch(f"/api/v1/projects/{migration['id']}", json={"client_id": theirs["id"]})

    refused(moved, "client_id")
    assert tenant.api.get(f"/api/v1/projects/{migration['id']}").json["client_id"] == acme["id"]
    nothing_sent_for_a_move(psa, tenant)


def test_a_task_handed_to_ann_while_the_project_moves_to_bolt_blocks_the_move(tenant, psa):
    """The dispatcher hands the cut-over to Ann (Acme only) while an admin moves the project to
    Bolt. The hand-over holds the project's row, as `update_task` does; the move waits for it and
    then finds Ann holding the task (on SQLite the writers take turns, to the same end)."""
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Legal")
    ann = named(tenant, "Ann Archer", grants=[acme["id"]])
    migration = project(tenant.api, acme["id"])
    mx = task(tenant.api, migration["id"])
    handed = [  # update_task: the project's row held first, then the task written
        ("UPDATE project SET name = name WHERE id = %s", (uuid.UUID(migration["id"]),)),
        ("UPDATE task SET assignee_id = %s WHERE id = %s", (uuid.UUID(ann.id), uuid.UUID(mx["id"]))),
    ]

    path = f"/api/v1/projects/{migration['id']}"

    moved = psa.meanwhile("tickets", handed, lambda: tenant.api.patch(path, json={"client_id": bolt["id"]}))

    refused(moved, "client_id")
    assert "Ann Archer" in moved.json["errors"]["client_id"][0]
    assert tenant.api.get(path).json["client_id"] == acme["id"]


# -- 2. no booking on a closed project ---------------------------------------------------------


def test_a_closed_projects_task_cannot_be_booked_or_have_a_booking_moved_onto_it(tenant, psa):
    """The office move is finished and invoiced. A booking on it is a visit nobody will bill; it
    answers as time does (409), and a booking already there can still be resized or removed."""
    acme = tenant.client("Acme Dental")
    ann = tenant.member("technician", grants=[acme["id"]])
    office = project(tenant.api, acme["id"], name="Office move")
    cabling = task(tenant.api, office["id"])
    already = book(tenant, ann, task_id=cabling["id"]).json
    other = book(tenant, ann, task_id=task(tenant.api, project(tenant.api, acme["id"])["id"])["id"]).json
    assert tenant.api.patch(f"/api/v1/projects/{office['id']}", json={"closed": True}).status_code == 200
    before = len(events(psa, tenant, "schedule.updated"))

    late = book(tenant, ann, task_id=cabling["id"])
    refused(late, "project_id", status=409)
    assert "closed" in late.json["detail"]
    moved_onto = tenant.api.patch(f"/api/v1/schedule/{other['id']}", json={"task_id": cabling["id"]})
    refused(moved_onto, "project_id", status=409)
    assert tenant.api.get(f"/api/v1/schedule/{other['id']}").json == other
    assert len(events(psa, tenant, "schedule.created")) == 2
    assert len(events(psa, tenant, "schedule.updated")) == before

    assert tenant.api.patch(f"/api/v1/schedule/{already['id']}", json={"minutes": 60}).status_code == 200
    assert tenant.api.delete(f"/api/v1/schedule/{already['id']}").status_code == 204

    assert tenant.api.patch(f"/api/v1/projects/{office['id']}", json={"closed": False}).status_code == 200
    assert book(tenant, ann, task_id=cabling["id"]).status_code == 201


def test_a_project_closed_while_a_tech_is_booked_on_it_refuses_the_booking(tenant, psa):
    acme = tenant.client("Acme Dental")
    ann = tenant.member("technician", grants=[acme["id"]])
    office = project(tenant.api, acme["id"])
    cabling = task(tenant.api, office["id"])
    closing = [("UPDATE project SET closed = %s WHERE id = %s", (True, uuid.UUID(office["id"])))]

    booked = psa.meanwhile("tickets", closing, lambda: book(tenant, ann, task_id=cabling["id"]))

    refused(booked, "project_id", status=409)
    assert tenant.api.get("/api/v1/schedule").json["items"] == []


# -- 3. time on a task sends the task's spent minutes ------------------------------------------


def test_time_logged_edited_and_deleted_on_a_task_sends_its_spent_minutes(tenant, psa):
    """A board built from task events showed the cabling at 0 of 480 minutes all week: logging
    time moved the task's spent minutes without a `task.updated` (until 2026-11-27)."""
    cabling = task(tenant.api, project(tenant.api, tenant.client("Acme")["id"])["id"], estimate_minutes=480)
    path = f"/api/v1/tasks/{cabling['id']}/time-entries"

    entry = tenant.api.post(path, json={"minutes": 45}).json
    assert tenant.api.post(path, json={"minutes": 0, "notes": "Voicemail"}).status_code == 201  # moves nothing
    assert tenant.api.patch(f"{path}/{entry['id']}", json={"minutes": 90}).status_code == 200
    assert tenant.api.patch(f"{path}/{entry['id']}", json={"notes": "Patched"}).status_code == 200  # no move
    assert tenant.api.delete(f"{path}/{entry['id']}").status_code == 204

    sent = events(psa, tenant, "task.updated")
    assert [e["spent_minutes"] for e in sent] == [45, 90, 0]
    assert all(e["id"] == cabling["id"] for e in sent)
    moments = [e["revised_at"] for e in sent]
    assert moments == sorted(set(moments)) and moments[0] > events(psa, tenant, "task.created")[0]["revised_at"]
    assert tenant.api.get(f"/api/v1/tasks/{cabling['id']}").json["spent_minutes"] == 0


def test_refused_time_sends_no_task_update(tenant, psa):
    office = project(tenant.api, tenant.client("Acme")["id"])
    cabling = task(tenant.api, office["id"])
    assert tenant.api.patch(f"/api/v1/projects/{office['id']}", json={"closed": True}).status_code == 200
    refused(tenant.api.post(f"/api/v1/tasks/{cabling['id']}/time-entries", json={"minutes": 30}), "project_id", 409)
    assert events(psa, tenant, "task.updated") == []


# -- 4. phases re-sent on a move ---------------------------------------------------------------


def test_moving_the_migration_to_bolt_resends_its_phases_with_bolt(tenant, psa):
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Legal")
    migration = project(tenant.api, acme["id"])
    phases = [tenant.api.post(f"/api/v1/projects/{migration['id']}/phases", json={"name": name}).json
              for name in ("Preparation", "Cut-over")]  # fmt: skip

    assert tenant.api.patch(f"/api/v1/projects/{migration['id']}", json={"client_id": bolt["id"]}).status_code == 200

    created, resent = events(psa, tenant, "phase.created"), events(psa, tenant, "phase.updated")
    assert sorted(e["id"] for e in resent) == sorted(p["id"] for p in phases)
    assert {e["client_id"] for e in resent} == {bolt["id"]} and {e["client_id"] for e in created} == {acme["id"]}
    (moved,) = events(psa, tenant, "project.updated")
    assert {e["revised_at"] for e in resent} == {moved["revised_at"]}
    assert all(c["revised_at"] < moved["revised_at"] for c in created)
    assert catalogue.CATALOGUE["phase.updated"].doc


def test_a_version_1_phase_event_is_read_as_older_than_every_later_one():
    payload = {"id": str(uuid.uuid4()), "project_id": str(uuid.uuid4()), "client_id": str(uuid.uuid4()),
               "name": "Cut-over", "position": 0}  # fmt: skip
    assert catalogue.CATALOGUE["phase.created"].version == 2
    read = catalogue.parse(Event(type="phase.created", tenant_id=str(uuid.uuid4()), payload=payload, version=1))
    assert read["revised_at"] == "1970-01-01T00:00:00Z" and read["name"] == "Cut-over"


# -- 5. the project's lock between writers -----------------------------------------------------


def test_a_project_closed_while_time_is_logged_to_its_task_never_ends_with_time_on_it(tenant, psa):
    """The project manager closes the office move as Tom logs his last hour on its cabling. The
    entry reads the project locked: the close commits first and the hour is refused (409), never
    logged on a project already closed (on SQLite the writers take turns, to the same end)."""
    office = project(tenant.api, tenant.client("Acme")["id"])
    cabling = task(tenant.api, office["id"])
    closing = [("UPDATE project SET closed = %s WHERE id = %s", (True, uuid.UUID(office["id"])))]
    path = f"/api/v1/tasks/{cabling['id']}/time-entries"

    logged = psa.meanwhile("tickets", closing, lambda: tenant.api.post(path, json={"minutes": 60}))

    refused(logged, "project_id", status=409)
    assert tenant.api.get(path).json["items"] == []
    assert tenant.api.get(f"/api/v1/tasks/{cabling['id']}").json["spent_minutes"] == 0
    assert events(psa, tenant, "time_entry.logged") == [] and events(psa, tenant, "task.updated") == []
