"""Edges of the reports and the work queue, as a service manager and a dispatcher meet them."""

import base64
import datetime as dt
import json

from psa_tickets.directory.models import Tenant

from .projects_seed import board, project, task, ticket


def backlog(api) -> dict:
    response = api.get("/api/v1/reports/backlog")
    assert response.status_code == 200, response.json
    return response.json


def cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def test_corrected_and_deleted_time_gives_the_estimate_back_to_the_pipe(tenant):
    acme = tenant.client("Acme Dental")
    made = tenant.api.post(
        "/api/v1/tickets", json={"client_id": acme["id"], "summary": "Clean out mailbox", "estimate_minutes": 300}
    )
    assert made.status_code == 201, made.json
    entries = f"/api/v1/tickets/{made.json['id']}/time-entries"
    typo = tenant.api.post(entries, json={"minutes": 100}).json  # meant 10
    call = tenant.api.post(entries, json={"minutes": 50, "notes": "Called client, sent the handout."}).json
    assert backlog(tenant.api)["pipe_minutes"] == 150
    assert tenant.api.patch(f"{entries}/{typo['id']}", json={"minutes": 10}).status_code == 200
    assert tenant.api.patch(f"{entries}/{call['id']}", json={"notes": "Sent the handout."}).status_code == 200
    assert backlog(tenant.api)["pipe_minutes"] == 240
    assert tenant.api.delete(f"{entries}/{call['id']}").status_code == 204
    assert backlog(tenant.api)["pipe_minutes"] == 290
    assert tenant.api.get("/api/v1/work").json["items"][0]["remaining_minutes"] == 290


def test_member_and_board_rows_add_up_to_the_pipe(tenant, psa):
    acme, bolt = tenant.client("Acme"), tenant.client("Bolt")
    desk, field = board(psa, tenant, "Desk"), board(psa, tenant, "Field")
    ann, bob, leaver = (tenant.member("technician", grants=[acme["id"], bolt["id"]]) for _ in range(3))
    ticket(psa, tenant, acme["id"], desk, estimate_minutes=100, spent_minutes=30, assignee=ann.id)  # 70
    ticket(psa, tenant, acme["id"], field, kind="waiting", estimate_minutes=50, assignee=leaver.id)  # 50
    ticket(psa, tenant, bolt["id"], field, estimate_minutes=70)  # 70, nobody's
    ticket(psa, tenant, bolt["id"], field, estimate_minutes=70, spent_minutes=500, assignee=bob.id)  # overrun: 0
    task(tenant.api, project(tenant.api, acme["id"], board_id=field)["id"], estimate_minutes=40, assignee_id=bob.id)
    task(tenant.api, project(tenant.api, bolt["id"])["id"], estimate_minutes=45)  # no board, nobody's
    shut = project(tenant.api, bolt["id"], closed=True)
    task(tenant.api, shut["id"], estimate_minutes=1000, assignee_id=ann.id)  # closed project: out
    assert tenant.api.post(f"/api/v1/members/{leaver.id}/deactivate").status_code == 200
    report = backlog(tenant.api)
    assert report["pipe_minutes"] == 70 + 50 + 70 + 40 + 45
    assert sum(row["pipe_minutes"] for row in report["by_member"]) == report["pipe_minutes"]
    assert sum(row["pipe_minutes"] for row in report["by_board"]) == report["pipe_minutes"]
    rows = {row["member_id"]: row["pipe_minutes"] for row in report["by_member"]}
    assert rows == {tenant.admin_id: 0, ann.id: 70, bob.id: 40, leaver.id: 50, None: 115}


def test_every_page_size_walks_the_same_queue(tenant, psa):
    acme = tenant.client("Acme")
    desk = board(psa, tenant)
    for n in range(8):
        due = dt.datetime(2026, 3, 1 + n % 3, 9) if n % 2 else None
        created = dt.datetime(2026, 3, 1, 9, n)
        ticket(psa, tenant, acme["id"], desk, priority=f"P{1 + n % 2}", resolve_due_at=due, created_at=created)
    move = project(tenant.api, acme["id"])
    for n in range(8):
        due = {"due_at": f"2026-03-0{1 + n % 3}T09:00:00Z"} if n % 3 else {}
        task(tenant.api, move["id"], priority=f"P{1 + n % 2}", **due)
    whole = [item["id"] for item in tenant.api.get("/api/v1/work?limit=200").json["items"]]
    assert len(whole) == 16
    for limit in (1, 3, 5):
        seen, after = [], None
        while True:
            page = tenant.api.get(f"/api/v1/work?limit={limit}" + (f"&after={after}" if after else "")).json
            seen += [item["id"] for item in page["items"]]
            if not (after := page["next_cursor"]):
                break
        assert seen == whole, limit


def test_a_week_beyond_the_calendar_is_refused_by_name_not_a_server_error(tenant, psa):
    # 9999-W52 ends in the year 10000; 0001-W01 starts before year 1 in UTC for a tenant in Auckland.
    response = tenant.api.get("/api/v1/reports/availability?week=9999-W52")
    assert response.status_code == 422 and "week" in response.json["errors"]
    with psa.service("tickets").db.proxy.connection_context():
        Tenant.update(time_zone="Pacific/Auckland").where(Tenant.id == tenant.id).execute()
    response = tenant.api.get("/api/v1/reports/availability?week=0001-W01")
    assert response.status_code == 422 and "week" in response.json["errors"]


def test_a_week_with_anything_around_it_is_refused(tenant):
    # A week pasted with its line break, or typed with full-width digits, is not YYYY-Www.
    for week in ("2026-W10%0A", "%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96-W10"):
        response = tenant.api.get(f"/api/v1/reports/availability?week={week}")
        assert response.status_code == 422, (week, response.json)
        assert "week" in response.json["errors"]


def test_a_mangled_work_queue_cursor_is_refused_by_name_not_a_server_error(tenant, psa):
    ticket(psa, tenant, tenant.client("Acme")["id"], board(psa, tenant))
    for last_id in (5, ["x"], {"id": 1}):
        response = tenant.api.get(f"/api/v1/work?after={cursor(['P1', None, '2026-03-01T09:00:00', last_id])}")
        assert response.status_code == 422, (last_id, response.json)
        assert response.json["errors"] == {"after": ["not a cursor this API issued"]}


def test_a_well_formed_week_out_of_range_says_so_rather_than_asking_for_the_format(tenant, psa):
    """A manager types 0001-W01 (Auckland), 9999-W52 or 2025-W53: each is YYYY-Www, so "expected an
    ISO week like 2026-W07" sent them looking for a typo. The refusal says what is wrong instead."""
    with psa.service("tickets").db.proxy.connection_context():
        Tenant.update(time_zone="Pacific/Auckland").where(Tenant.id == tenant.id).execute()
    for week, reason in [("0001-W01", "out of the supported range"), ("9999-W52", "out of the supported range")]:
        response = tenant.api.get(f"/api/v1/reports/availability?week={week}")
        assert response.status_code == 422 and reason in response.json["errors"]["week"][0], (week, response.json)
    response = tenant.api.get("/api/v1/reports/availability?week=2025-W53")
    assert response.json["errors"] == {"week": ["2025 has no week 53"]}
    response = tenant.api.get("/api/v1/reports/availability?week=2026-W7")
    assert response.json["errors"] == {"week": ["expected an ISO week like 2026-W07"]}


def test_a_cursor_the_api_never_issued_is_refused_in_the_same_words_in_detail_and_errors(tenant):
    for after in ("garbage", cursor({"id": 1}), cursor(["not-a-uuid"])):
        for path in ("/api/v1/work", "/api/v1/clients"):
            response = tenant.api.get(f"{path}?after={after}")
            assert response.status_code == 422, (path, after, response.json)
            assert response.json["errors"] == {"after": ["not a cursor this API issued"]}
            assert response.json["detail"] == "after: not a cursor this API issued"


def test_unassigned_takes_true_or_false_as_documented_not_any_word_for_yes(tenant):
    """`unassigned=yes` filtered the queue as `true` would; `?active=on` did the same on clients."""
    for path in ("/api/v1/work?unassigned=yes", "/api/v1/work?unassigned=TRUE", "/api/v1/clients?active=on"):
        response = tenant.api.get(path)
        assert response.status_code == 422 and list(response.json["errors"]) == [path.split("?")[1].split("=")[0]]
    for path in ("/api/v1/work?unassigned=true", "/api/v1/work?unassigned=0", "/api/v1/clients?active=false"):
        assert tenant.api.get(path).status_code == 200, path
