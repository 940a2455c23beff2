"""Projects, tasks and the work queue at their edges, as an MSP meets them (defects found in a
hunt of the projects area; each test failed before its fix, see docs/projects-and-reports.md)."""

import uuid

from psa_shared.web import encode_cursor

from .projects_seed import events, project, task


def test_an_hour_logged_while_the_dispatcher_moves_the_project_is_billed_to_the_new_client(tenant, psa):
    """The office move was opened under Acme by mistake. As the dispatcher moves it to Riverside,
    a tech logs an hour on it: the hour is Riverside's, as is every unbilled hour of the project."""
    acme, riverside = tenant.client("Acme Dental"), tenant.client("Riverside Law")
    move = project(tenant.api, acme["id"], name="Office move")
    cabling = task(tenant.api, move["id"], name="Cable 12 desks")
    moved = [  # the dispatcher's move, as the service writes it, not yet committed
        ("UPDATE project SET client_id = %s WHERE id = %s", (uuid.UUID(riverside["id"]), uuid.UUID(move["id"]))),
        (
            "UPDATE timeentry SET client_id = %s WHERE task_id = %s AND billed_invoice_id IS NULL",
            (uuid.UUID(riverside["id"]), uuid.UUID(cabling["id"])),
        ),
    ]
    path = f"/api/v1/tasks/{cabling['id']}/time-entries"

    logged = psa.meanwhile("tickets", moved, lambda: tenant.api.post(path, json={"minutes": 60}))

    assert logged.status_code == 201, logged.json
    assert events(psa, tenant, "time_entry.logged")[-1]["client_id"] == riverside["id"]
    assert tenant.api.get(f"/api/v1/tasks/{cabling['id']}").json["spent_minutes"] == 60


def test_a_hand_edited_work_queue_cursor_is_refused_by_name(tenant):
    """An integration script builds its own `after` with a priority the queue never issues (a NUL
    byte, which PostgreSQL cannot even compare): 422 naming `after`, not a 500."""
    for priority in ("\x00", "P9", None, {"p": 1}):
        cursor = encode_cursor([priority, None, "2026-03-02T09:00:00", str(uuid.uuid4())])
        response = tenant.api.get(f"/api/v1/work?after={cursor}")
        assert response.status_code == 422, (priority, response.status_code)
        assert response.content_type == "application/problem+json"
        assert "after" in response.json["errors"]
