"""Project-side events carry what billing and the vault need, so neither calls back (found thin
by the review of 2026-11-27; each story failed before on both backends): a booking names its
client, a project moved to the right client re-sends its tasks and bookings with that client, a
task's every field is in its event, and every version of a task, project or booking outranks the
earlier ones by its `revised_at`."""

import datetime as dt
import uuid

from psa_shared import events as catalogue
from psa_shared.events import Event

from .projects_seed import board, events, project, task, ticket


def _book(tenant, member, **target) -> dict:
    made = tenant.api.post(
        "/api/v1/schedule", json={"member_id": member.id, "starts_at": "2026-12-01T09:00:00Z", "minutes": 120, **target}
    )
    assert made.status_code == 201, made.json
    return made.json


def _hours_ago(hours: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _newest_by_revision(sent: list[dict]) -> dict:
    """What a read model keeping the newest version (`apply_newer`) holds of each record, however
    the events arrived: applied here newest-last, then again in reverse, as a redelivery would."""
    held: dict[str, dict] = {}
    for payload in [*sent, *reversed(sent)]:
        if payload["id"] not in held or held[payload["id"]]["revised_at"] <= payload["revised_at"]:
            held[payload["id"]] = payload
    return held


def test_a_booking_names_the_client_it_is_for(tenant, psa):
    acme = tenant.client("Acme Dental")
    tech = tenant.member("technician", grants=[acme["id"]])
    migration = project(tenant.api, acme["id"], name="Mail migration")
    cutover = task(tenant.api, migration["id"], name="Cut over MX")
    on_ticket = ticket(psa, tenant, acme["id"], board(psa, tenant))

    on_task = _book(tenant, tech, task_id=cutover["id"])
    _book(tenant, tech, ticket_id=on_ticket)
    moved = tenant.api.patch(f"/api/v1/schedule/{on_task['id']}", json={"minutes": 90})
    assert moved.status_code == 200, moved.json
    assert tenant.api.delete(f"/api/v1/schedule/{on_task['id']}").status_code == 204

    for kind in ("schedule.created", "schedule.updated", "schedule.deleted"):
        sent = events(psa, tenant, kind)
        assert sent and all(e["client_id"] == acme["id"] for e in sent), (kind, sent)


def test_moving_the_migration_project_to_the_right_client_resends_its_tasks_and_bookings(tenant, psa):
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Legal")
    tech = tenant.member("technician", grants=[acme["id"], bolt["id"]])
    desk = board(psa, tenant)
    migration = project(tenant.api, acme["id"], name="Mail migration", board_id=desk)  # opened for the wrong client
    mx, mailboxes = task(tenant.api, migration["id"], name="Cut over MX"), task(tenant.api, migration["id"])
    booked = _book(tenant, tech, task_id=mx["id"])

    moved = tenant.api.patch(f"/api/v1/projects/{migration['id']}", json={"client_id": bolt["id"]})

    assert moved.status_code == 200, moved.json
    (announced,) = events(psa, tenant, "project.updated")
    assert announced["client_id"] == bolt["id"] and announced["old_client_id"] == acme["id"]
    assert announced["board_id"] == desk
    resent = events(psa, tenant, "task.updated")
    assert sorted(e["id"] for e in resent) == sorted([mx["id"], mailboxes["id"]])
    assert all(e["client_id"] == bolt["id"] for e in resent)
    (rebooked,) = events(psa, tenant, "schedule.updated")
    assert rebooked["id"] == booked["id"] and rebooked["client_id"] == bolt["id"]
    # a projection built from events, whatever order they came in, holds the tasks at Bolt
    held = _newest_by_revision(events(psa, tenant, "task.created") + resent)
    assert {e["client_id"] for e in held.values()} == {bolt["id"]}

    renamed = tenant.api.patch(f"/api/v1/projects/{migration['id']}", json={"name": "Mail migration (Bolt)"})
    assert renamed.status_code == 200 and len(events(psa, tenant, "task.updated")) == 2  # same client: no re-send
    assert events(psa, tenant, "project.updated")[-1]["old_client_id"] is None


def test_a_priority_only_patch_of_a_task_changes_its_event(tenant, psa):
    acme = tenant.client("Acme Dental")
    migration = project(tenant.api, acme["id"], name="Mail migration")
    phase = tenant.api.post(f"/api/v1/projects/{migration['id']}/phases", json={"name": "Cut-over"}).json
    mx = task(tenant.api, migration["id"], name="Cut over MX")
    logged = tenant.api.post(
        f"/api/v1/tasks/{mx['id']}/time-entries", json={"started_at": _hours_ago(3), "minutes": 45}
    )
    assert logged.status_code == 201, logged.json

    patches = [{"priority": "P1"}, {"phase_id": phase["id"]}, {"due_at": "2026-12-05T17:00:00Z"}]
    for body in patches:
        answer = tenant.api.patch(f"/api/v1/tasks/{mx['id']}", json=body)
        assert answer.status_code == 200, answer.json

    _logged, first, second, third = events(psa, tenant, "task.updated")  # logging the time sends one too
    assert (first["priority"], first["phase_id"], first["spent_minutes"]) == ("P1", None, 45)
    assert second["phase_id"] == phase["id"] and third["due_at"] == "2026-12-05T17:00:00Z"
    assert events(psa, tenant, "task.created")[0]["priority"] == "P3"
    assert events(psa, tenant, "task.created")[0]["due_at"] is None


def test_events_of_one_task_project_and_booking_are_ordered_by_revised_at(tenant, psa):
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Legal")
    tech = tenant.member("technician", grants=[acme["id"], bolt["id"]])
    migration = project(tenant.api, acme["id"], name="Mail migration")
    mx = task(tenant.api, migration["id"], name="Cut over MX")
    booked = _book(tenant, tech, task_id=mx["id"])
    tenant.api.patch(f"/api/v1/tasks/{mx['id']}", json={"priority": "P2"})
    tenant.api.patch(f"/api/v1/projects/{migration['id']}", json={"client_id": bolt["id"]})  # re-sends task, booking
    tenant.api.patch(f"/api/v1/tasks/{mx['id']}", json={"done": True})
    tenant.api.patch(f"/api/v1/projects/{migration['id']}", json={"closed": True})
    tenant.api.patch(f"/api/v1/schedule/{booked['id']}", json={"minutes": 60})

    for kinds in (("task.created", "task.updated"), ("project.created", "project.updated"),
                  ("schedule.created", "schedule.updated")):  # fmt: skip
        sent = [e for kind in kinds for e in events(psa, tenant, kind)]
        moments = [e["revised_at"] for e in sent]
        assert len(sent) >= 3 and moments == sorted(set(moments)), (kinds, moments)  # strictly newer each time
    held = _newest_by_revision(events(psa, tenant, "task.created") + events(psa, tenant, "task.updated"))
    assert (held[mx["id"]]["done"], held[mx["id"]]["client_id"], held[mx["id"]]["priority"]) == (True, bolt["id"], "P2")
    assert _newest_by_revision(events(psa, tenant, "project.updated"))[migration["id"]]["closed"] is True


def test_version_1_project_events_are_read_as_older_than_every_version_2_one():
    """Events written before version 2 (still in an outbox or on a queue) are upcast: what they
    did not carry is null, and their `revised_at` is the earliest there is, so a version 2 event
    of the same record always outranks them."""
    ids = {"id": str(uuid.uuid4()), "project_id": str(uuid.uuid4()), "client_id": str(uuid.uuid4())}
    old = {
        "task.updated": {**ids, "name": "Cut over MX", "assignee_id": None, "estimate_minutes": None, "done": False},
        "project.updated": {"id": ids["id"], "client_id": ids["client_id"], "name": "Mail migration", "closed": False},
        "schedule.created": {"id": ids["id"], "member_id": str(uuid.uuid4()), "starts_at": "2026-12-01T09:00:00Z",
                             "minutes": 60, "ticket_id": None, "task_id": ids["project_id"]},
    }  # fmt: skip
    for name, payload in old.items():
        assert catalogue.CATALOGUE[name].version == 2
        read = catalogue.parse(Event(type=name, tenant_id=str(uuid.uuid4()), payload=payload, version=1))
        assert read["revised_at"] == "1970-01-01T00:00:00Z" < "2026-01-01T00:00:00Z"
    task_read, project_read, schedule_read = (
        catalogue.parse(Event(type=name, tenant_id=ids["id"], payload=payload, version=1))
        for name, payload in old.items()
    )
    assert task_read["priority"] is None and task_read["spent_minutes"] is None and task_read["phase_id"] is None
    assert project_read["board_id"] is None and project_read["old_client_id"] is None
    assert schedule_read["client_id"] is None
