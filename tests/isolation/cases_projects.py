"""Cross-tenant cases for projects, phases, tasks, task time, the schedule, the work queue and reports."""

from tests.tickets.projects_seed import board, ticket


def seed(b, psa) -> dict:
    client = b.client("B's project client")
    project = b.api.post("/api/v1/projects", json={"client_id": client["id"], "name": "B move"}).json
    phase = b.api.post(f"/api/v1/projects/{project['id']}/phases", json={"name": "B phase"}).json
    task = b.api.post(f"/api/v1/projects/{project['id']}/tasks", json={"name": "B task", "estimate_minutes": 60}).json
    entry = b.api.post(
        f"/api/v1/tasks/{task['id']}/time-entries", json={"minutes": 15, "started_at": "2026-03-02T09:00:00Z"}
    ).json
    b_ticket = ticket(psa, b, client["id"], board(psa, b), estimate_minutes=90)
    booking = b.api.post(
        "/api/v1/schedule",
        json={"member_id": b.admin_id, "starts_at": "2026-03-02T08:00:00Z", "minutes": 60, "task_id": task["id"]},
    ).json
    return {
        "project_client": client["id"],
        "project": project["id"],
        "phase": phase["id"],
        "task": task["id"],
        "task_time_entry": entry["id"],
        "project_ticket": b_ticket,
        "schedule_entry": booking["id"],
    }


def WATCH(ids):  # noqa: N802  (a constant-like hook of every cases module)
    return [
        f"/api/v1/projects/{ids['project']}",
        f"/api/v1/projects/{ids['project']}/phases",
        f"/api/v1/projects/{ids['project']}/tasks",
        f"/api/v1/tasks/{ids['task']}",
        f"/api/v1/tasks/{ids['task']}/time-entries",
        f"/api/v1/tasks/{ids['task']}/time-entries/{ids['task_time_entry']}",
        f"/api/v1/schedule/{ids['schedule_entry']}",
        "/api/v1/schedule",
    ]


ROUTES = {
    ("GET", "/api/v1/projects"): lambda ids: {"path": "/api/v1/projects", "expect": "list"},
    ("POST", "/api/v1/projects"): lambda ids: {
        "path": "/api/v1/projects",
        "json": {"client_id": ids["project_client"], "name": "x"},
        "expect": 422,
    },
    ("GET", "/api/v1/projects/<uuid:project_id>"): lambda ids: {"path": f"/api/v1/projects/{ids['project']}"},
    ("PATCH", "/api/v1/projects/<uuid:project_id>"): lambda ids: {
        "path": f"/api/v1/projects/{ids['project']}",
        "json": {"name": "Hijacked"},
    },
    ("GET", "/api/v1/projects/<uuid:project_id>/phases"): lambda ids: {
        "path": f"/api/v1/projects/{ids['project']}/phases"
    },
    ("POST", "/api/v1/projects/<uuid:project_id>/phases"): lambda ids: {
        "path": f"/api/v1/projects/{ids['project']}/phases",
        "json": {"name": "Injected"},
    },
    ("GET", "/api/v1/projects/<uuid:project_id>/tasks"): lambda ids: {
        "path": f"/api/v1/projects/{ids['project']}/tasks"
    },
    ("POST", "/api/v1/projects/<uuid:project_id>/tasks"): lambda ids: {
        "path": f"/api/v1/projects/{ids['project']}/tasks",
        "json": {"name": "Injected"},
    },
    ("GET", "/api/v1/tasks/<uuid:task_id>"): lambda ids: {"path": f"/api/v1/tasks/{ids['task']}"},
    ("PATCH", "/api/v1/tasks/<uuid:task_id>"): lambda ids: {
        "path": f"/api/v1/tasks/{ids['task']}",
        "json": {"done": True},
    },
    ("GET", "/api/v1/tasks/<uuid:task_id>/time-entries"): lambda ids: {
        "path": f"/api/v1/tasks/{ids['task']}/time-entries"
    },
    ("POST", "/api/v1/tasks/<uuid:task_id>/time-entries"): lambda ids: {
        "path": f"/api/v1/tasks/{ids['task']}/time-entries",
        "json": {"minutes": 30, "started_at": "2026-03-02T09:00:00Z"},
    },
    ("GET", "/api/v1/tasks/<uuid:task_id>/time-entries/<uuid:entry_id>"): lambda ids: {
        "path": f"/api/v1/tasks/{ids['task']}/time-entries/{ids['task_time_entry']}"
    },
    ("PATCH", "/api/v1/tasks/<uuid:task_id>/time-entries/<uuid:entry_id>"): lambda ids: {
        "path": f"/api/v1/tasks/{ids['task']}/time-entries/{ids['task_time_entry']}",
        "json": {"minutes": 1},
    },
    ("DELETE", "/api/v1/tasks/<uuid:task_id>/time-entries/<uuid:entry_id>"): lambda ids: {
        "path": f"/api/v1/tasks/{ids['task']}/time-entries/{ids['task_time_entry']}"
    },
    ("GET", "/api/v1/schedule"): lambda ids: {"path": "/api/v1/schedule", "expect": "list"},
    ("POST", "/api/v1/schedule"): lambda ids: {
        "path": "/api/v1/schedule",
        "json": {"member_id": ids["project_client"], "starts_at": "2026-03-02T08:00:00Z", "minutes": 30},
        "expect": 422,
    },
    ("GET", "/api/v1/schedule/<uuid:entry_id>"): lambda ids: {"path": f"/api/v1/schedule/{ids['schedule_entry']}"},
    ("PATCH", "/api/v1/schedule/<uuid:entry_id>"): lambda ids: {
        "path": f"/api/v1/schedule/{ids['schedule_entry']}",
        "json": {"minutes": 600},
    },
    ("DELETE", "/api/v1/schedule/<uuid:entry_id>"): lambda ids: {"path": f"/api/v1/schedule/{ids['schedule_entry']}"},
    ("GET", "/api/v1/work"): lambda ids: {"path": "/api/v1/work", "expect": "list"},
    # Reports of an empty tenant A: 200 with nothing of B's (tests/tickets/test_backlog.py checks the figures).
    ("GET", "/api/v1/reports/backlog"): lambda ids: {"path": "/api/v1/reports/backlog", "expect": 200},
    ("GET", "/api/v1/reports/availability"): lambda ids: {"path": "/api/v1/reports/availability", "expect": 200},
}
