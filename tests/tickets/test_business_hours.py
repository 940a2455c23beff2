"""An MSP sets its business hours and holidays; SLA clocks count in them."""

import datetime as dt

import pytest

from psa_tickets.servicedesk import clock

PATH = "/api/v1/settings/business-hours"
DEFAULTS = {
    "time_zone": "UTC",
    "workday_start": "08:00",
    "workday_end": "17:00",
    "workdays": [1, 2, 3, 4, 5],
    "holidays": [],
}
AMSTERDAM = {
    "time_zone": "Europe/Amsterdam",
    "workday_start": "09:00",
    "workday_end": "17:00",
    "workdays": [5, 1, 2, 3, 4],
    "holidays": ["2026-03-03", "2026-12-25"],
}


def test_new_tenant_reads_the_seeded_hours(tenant):
    response = tenant.api.get(PATH)
    assert response.status_code == 200 and response.json == DEFAULTS


def open_ticket_monday_at_15_utc(tenant) -> dict:
    with clock.travel(dt.datetime(2026, 3, 2, 15, 0)):
        made = tenant.api.post("/api/v1/tickets", json={"client_id": tenant.client()["id"], "summary": "VPN down"})
    assert made.status_code == 201, made.json
    return made.json


def test_sla_due_times_follow_the_amsterdam_hours_and_skip_the_holiday(tenant):
    before = open_ticket_monday_at_15_utc(tenant)  # 08:00-17:00 UTC: 120 minutes left on Monday
    assert before["respond_due_at"] == "2026-03-03T10:00:00Z"
    assert before["resolve_due_at"] == "2026-03-05T12:00:00Z"

    saved = tenant.api.put(PATH, json=AMSTERDAM)
    assert saved.status_code == 200, saved.json
    assert saved.json == {**AMSTERDAM, "workdays": [1, 2, 3, 4, 5]}
    assert tenant.api.get(PATH).json == saved.json

    # The same moment is Monday 16:00 in Amsterdam (CET, UTC+1); Tuesday is the holiday.
    made = open_ticket_monday_at_15_utc(tenant)
    # P3: respond within 240 business minutes = Monday 16:00-17:00, then Wednesday 09:00-12:00 local.
    assert made["respond_due_at"] == "2026-03-04T11:00:00Z"
    # Resolve within 1440 = 60 on Monday + 480 Wednesday + 480 Thursday + 420 Friday, to 16:00 local.
    assert made["resolve_due_at"] == "2026-03-06T15:00:00Z"


def test_bad_hours_are_refused_naming_the_field_and_nothing_is_written(tenant):
    tenant.api.put(PATH, json=AMSTERDAM)
    for field, value in [
        ("time_zone", "Mars/Olympus_Mons"),
        ("time_zone", "localtime"),
        ("workday_start", "8am"),
        ("workday_start", "09:60"),
        ("workday_end", "08:30"),
        ("workday_end", "24:01"),
        ("workdays", []),
        ("workdays", [1, 1, 2]),
        ("workdays", [0, 8]),
        ("holidays", ["2026-02-30"]),
        ("holidays", "2026-12-25"),
    ]:
        refused = tenant.api.put(PATH, json={**AMSTERDAM, "time_zone": "Asia/Tokyo", field: value})
        assert refused.status_code == 422, (field, value)
        assert refused.content_type == "application/problem+json"
        assert any(name.split(".")[0] == field for name in refused.json["errors"]), (field, refused.json)
    missing = tenant.api.put(PATH, json={k: v for k, v in AMSTERDAM.items() if k != "holidays"})
    assert missing.status_code == 422 and "holidays" in missing.json["errors"]
    assert tenant.api.get(PATH).json["time_zone"] == "Europe/Amsterdam"


def test_a_desk_open_around_the_clock_ends_its_day_at_24_00(tenant):
    hours = {**DEFAULTS, "workday_start": "00:00", "workday_end": "24:00", "workdays": [1, 2, 3, 4, 5, 6, 7]}
    assert tenant.api.put(PATH, json=hours).json == hours


@pytest.mark.parametrize("role", ["technician", "dispatcher"])
def test_only_admins_change_business_hours(tenant, role):
    member = tenant.member(role)
    assert member.api.get(PATH).json == DEFAULTS
    refused = member.api.put(PATH, json=AMSTERDAM)
    assert refused.status_code == 403 and refused.content_type == "application/problem+json"
    assert tenant.api.get(PATH).json == DEFAULTS


def test_each_msp_reads_and_keeps_its_own_hours(tenant, other_tenant):
    assert tenant.api.put(PATH, json=AMSTERDAM).status_code == 200
    assert other_tenant.api.get(PATH).json == DEFAULTS


def test_moving_the_msp_to_amsterdam_time_tells_the_other_services(tenant, psa):
    """Billing cuts its months in the MSP's zone and never calls back: until 2026-11-28 only
    `tenant.created` ever named it. New holidays alone change no zone and say nothing."""
    assert tenant.api.put(PATH, json=AMSTERDAM).status_code == 200
    assert tenant.api.put(PATH, json={**AMSTERDAM, "holidays": ["2026-12-24"]}).status_code == 200
    (moved,) = psa.emitted("tenant.updated")
    assert moved.payload == {"id": tenant.id, "name": moved.payload["name"], "time_zone": "Europe/Amsterdam"}
    assert str(moved.tenant_id) == tenant.id
