"""Availability for dispatch: who still has hours free in a given week."""

from psa_tickets.directory.models import Member, Tenant

from .projects_seed import board, in_tenant, project, task, ticket


def test_week_shows_capacity_scheduled_logged_and_available_per_member(tenant, psa):
    acme = tenant.client("Acme")
    ann = tenant.member("technician", grants=[acme["id"]])
    desk_ticket = ticket(psa, tenant, acme["id"], board(psa, tenant))
    cabling = task(tenant.api, project(tenant.api, acme["id"])["id"])
    for starts_at, minutes in [
        ("2026-03-02T08:00:00Z", 480),
        ("2026-03-06T13:00:00Z", 600),
        ("2026-03-09T08:00:00Z", 60),
    ]:
        body = {"member_id": ann.id, "starts_at": starts_at, "minutes": minutes, "ticket_id": desk_ticket}
        assert tenant.api.post("/api/v1/schedule", json=body).status_code == 201
    body = {"minutes": 90, "started_at": "2026-03-03T10:00:00Z", "member_id": ann.id}
    assert tenant.api.post(f"/api/v1/tasks/{cabling['id']}/time-entries", json=body).status_code == 201
    report = tenant.api.get("/api/v1/reports/availability?week=2026-W10")
    assert report.status_code == 200, report.json
    assert report.json["starts_at"] == "2026-03-02T00:00:00Z" and report.json["ends_at"] == "2026-03-09T00:00:00Z"
    row = next(r for r in report.json["members"] if r["member_id"] == ann.id)
    assert row == {
        "member_id": ann.id,
        "name": "Technician",
        "capacity_minutes": 2400,
        "scheduled_minutes": 1080,
        "logged_minutes": 90,
        "available_minutes": 1320,
        "capacity_hours": "40.00",
        "scheduled_hours": "18.00",
        "logged_hours": "1.50",
        "available_hours": "22.00",
    }


def test_overbooked_member_shows_zero_available_not_negative(tenant, psa):
    acme = tenant.client("Acme")
    ann = tenant.member("technician", grants=[acme["id"]])
    with in_tenant(psa, tenant):
        Member.update(weekly_capacity_minutes=600).where(Member.id == ann.id).execute()
    desk_ticket = ticket(psa, tenant, acme["id"], board(psa, tenant))
    body = {"member_id": ann.id, "starts_at": "2026-03-03T08:00:00Z", "minutes": 900, "ticket_id": desk_ticket}
    tenant.api.post("/api/v1/schedule", json=body)
    row = next(
        r
        for r in tenant.api.get("/api/v1/reports/availability?week=2026-W10").json["members"]
        if r["member_id"] == ann.id
    )
    assert row["scheduled_minutes"] == 900 and row["available_minutes"] == 0


def test_week_follows_the_tenants_time_zone(tenant, psa):
    with psa.service("tickets").db.proxy.connection_context():
        Tenant.update(time_zone="America/New_York").where(Tenant.id == tenant.id).execute()
    desk_ticket = ticket(psa, tenant, tenant.client("Acme")["id"], board(psa, tenant))
    # Sunday 23:00 in New York is already Monday 04:00 UTC: it belongs to the week before.
    body = {"member_id": tenant.admin_id, "starts_at": "2026-03-09T03:00:00Z", "minutes": 60, "ticket_id": desk_ticket}
    tenant.api.post("/api/v1/schedule", json=body)
    report = tenant.api.get("/api/v1/reports/availability?week=2026-W10").json
    assert report["starts_at"] == "2026-03-02T05:00:00Z" and report["time_zone"] == "America/New_York"
    assert report["ends_at"] == "2026-03-09T04:00:00Z"  # daylight saving time starts on 8 March
    assert report["members"][0]["scheduled_minutes"] == 60


def test_deactivated_members_and_other_tenants_are_not_listed(tenant, other_tenant):
    leaver = tenant.member("technician")
    tenant.api.post(f"/api/v1/members/{leaver.id}/deactivate")
    other_tenant.member("technician")
    members = tenant.api.get("/api/v1/reports/availability?week=2026-W10").json["members"]
    assert [m["member_id"] for m in members] == [tenant.admin_id]


def test_a_week_that_is_not_an_iso_week_is_refused_by_name(tenant):
    for week in ("2026-10", "2026-W54", "W10", "2026-W1", ""):  # empty: this week, until 2026-11-27
        response = tenant.api.get(f"/api/v1/reports/availability?week={week}")
        assert response.status_code == 422, week
        assert response.content_type == "application/problem+json" and "week" in response.json["errors"]
