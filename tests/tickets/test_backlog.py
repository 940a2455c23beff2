"""Backlog as the service manager reads it on Monday: hours in the pipe over the team's weekly capacity."""

from psa_tickets.directory.models import Member

from .projects_seed import board, in_tenant, project, task, ticket


def backlog(api):
    response = api.get("/api/v1/reports/backlog")
    assert response.status_code == 200, response.json
    return response.json


def test_backlog_in_weeks_equals_pipe_over_capacity(tenant, psa):
    acme = tenant.client("Acme")
    desk = board(psa, tenant, "Field Work")
    ann, bob = tenant.member("technician"), tenant.member("technician")
    ticket(psa, tenant, acme["id"], desk, estimate_minutes=600, spent_minutes=120, assignee=ann.id)  # 480 left
    ticket(psa, tenant, acme["id"], desk, kind="waiting", estimate_minutes=300, assignee=bob.id)  # 300 left
    ticket(psa, tenant, acme["id"], desk, kind="closed", estimate_minutes=9000)  # closed: not in the pipe
    move = project(tenant.api, acme["id"], board_id=desk)
    task(tenant.api, move["id"], estimate_minutes=240)  # unassigned, 240 left
    report = backlog(tenant.api)
    # Admin + Ann + Bob, 40 hours each.
    assert report["capacity_minutes_per_week"] == 3 * 2400
    assert report["pipe_minutes"] == 480 + 300 + 240
    assert report["backlog_weeks"] == "0.14"  # 1020 / 7200 = 0.1416..
    rows = {row["member_id"]: row for row in report["by_member"]}
    assert rows[ann.id]["pipe_minutes"] == 480 and rows[ann.id]["backlog_weeks"] == "0.20"
    assert rows[None] == {
        "member_id": None,
        "name": None,
        "pipe_minutes": 240,
        "capacity_minutes_per_week": 0,
        "backlog_weeks": None,
    }
    assert report["by_board"] == [{"board_id": desk, "name": "Field Work", "pipe_minutes": 1020}]


def test_estimate_below_spent_counts_zero_not_negative(tenant, psa):
    acme = tenant.client("Acme")
    desk = board(psa, tenant)
    ticket(psa, tenant, acme["id"], desk, estimate_minutes=60, spent_minutes=300)
    ticket(psa, tenant, acme["id"], desk, estimate_minutes=None)
    ticket(psa, tenant, acme["id"], desk, estimate_minutes=100, spent_minutes=40)
    overrun = task(tenant.api, project(tenant.api, acme["id"])["id"], estimate_minutes=30)
    tenant.api.post(
        f"/api/v1/tasks/{overrun['id']}/time-entries", json={"minutes": 45, "started_at": "2026-03-02T09:00:00Z"}
    )
    report = backlog(tenant.api)
    assert report["pipe_minutes"] == 60
    assert {row["board_id"]: row["pipe_minutes"] for row in report["by_board"]} == {desk: 60, None: 0}


def test_time_logged_on_a_task_shrinks_the_pipe_and_done_tasks_leave_it(tenant):
    acme = tenant.client("Acme")
    cabling = task(tenant.api, project(tenant.api, acme["id"])["id"], estimate_minutes=300)
    assert backlog(tenant.api)["pipe_minutes"] == 300
    tenant.api.post(
        f"/api/v1/tasks/{cabling['id']}/time-entries", json={"minutes": 120, "started_at": "2026-03-02T09:00:00Z"}
    )
    assert backlog(tenant.api)["pipe_minutes"] == 180
    tenant.api.patch(f"/api/v1/tasks/{cabling['id']}", json={"done": True})
    assert backlog(tenant.api)["pipe_minutes"] == 0


def test_deactivated_member_drops_out_of_capacity_but_their_tickets_stay_in_the_pipe(tenant, psa):
    acme = tenant.client("Acme")
    leaver = tenant.member("technician")
    ticket(psa, tenant, acme["id"], board(psa, tenant), estimate_minutes=600, assignee=leaver.id)
    assert backlog(tenant.api)["capacity_minutes_per_week"] == 4800
    assert tenant.api.post(f"/api/v1/members/{leaver.id}/deactivate").status_code == 200
    report = backlog(tenant.api)
    assert report["capacity_minutes_per_week"] == 2400
    assert report["pipe_minutes"] == 600 and report["backlog_weeks"] == "0.25"
    row = next(r for r in report["by_member"] if r["member_id"] == leaver.id)
    assert row["capacity_minutes_per_week"] == 0 and row["backlog_weeks"] is None and row["pipe_minutes"] == 600


def test_no_capacity_means_no_weeks_figure(tenant, psa):
    with in_tenant(psa, tenant):
        Member.update(weekly_capacity_minutes=0).execute()
    ticket(psa, tenant, tenant.client("Acme")["id"], board(psa, tenant), estimate_minutes=60)
    report = backlog(tenant.api)
    assert report["capacity_minutes_per_week"] == 0 and report["backlog_weeks"] is None


def test_tech_backlog_counts_only_granted_clients_and_other_tenants_never(tenant, other_tenant, psa):
    acme, bolt = tenant.client("Acme"), tenant.client("Bolt")
    desk = board(psa, tenant)
    ticket(psa, tenant, acme["id"], desk, estimate_minutes=60)
    ticket(psa, tenant, bolt["id"], desk, estimate_minutes=600)
    ticket(psa, other_tenant, other_tenant.client("X")["id"], board(psa, other_tenant), estimate_minutes=5000)
    tech = tenant.member("technician", grants=[acme["id"]])
    assert backlog(tech.api)["pipe_minutes"] == 60
    assert backlog(tenant.api)["pipe_minutes"] == 660
    billing_key = tenant.api.post("/api/v1/auth/api-keys", json={"name": "k", "scopes": ["ticket:read"]}).json["key"]
    token = psa.http.post("/api/v1/auth/token", json={"api_key": billing_key}).json["access_token"]
    assert psa.http.as_token(token).get("/api/v1/reports/backlog").status_code == 403
