"""The ticket list and the printable client reports at their edges: what a dispatcher types in the
search box, a link someone edited by hand, and the month's report a client is sent."""

import base64
import datetime as dt
import json

import pytest

from psa_tickets.servicedesk import clock

from .test_service_desk import log, open_ticket

AMSTERDAM = {"time_zone": "Europe/Amsterdam", "workday_start": "08:00", "workday_end": "17:00",
             "workdays": [1, 2, 3, 4, 5], "holidays": []}  # fmt: skip


def summaries(api, query: str) -> list[str]:
    response = api.get("/api/v1/tickets", query_string=query)
    assert response.status_code == 200, response.json
    return [t["summary"] for t in response.json["items"]]


def cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


# The list


def test_searching_for_a_percent_sign_or_an_underscore_finds_only_summaries_holding_it(tenant):
    acme = tenant.client("Acme")
    for summary in ("Disk 95% full", "Printer jams", "user_name rejected at login", "Username forgotten"):
        open_ticket(tenant.api, acme["id"], summary=summary)
    assert summaries(tenant.api, {"q": "%"}) == ["Disk 95% full"]
    assert summaries(tenant.api, {"q": "95%"}) == ["Disk 95% full"]
    assert summaries(tenant.api, {"q": "_"}) == ["user_name rejected at login"]
    assert summaries(tenant.api, {"q": "user_"}) == ["user_name rejected at login"]
    assert summaries(tenant.api, {"q": "USERNAME"}) == ["Username forgotten"]  # still case-insensitive


def test_searching_for_a_windows_path_finds_the_ticket_that_names_it(tenant):
    acme = tenant.client("Acme")
    open_ticket(tenant.api, acme["id"], summary=r"Cannot open C:\Users\bob\Desktop")
    open_ticket(tenant.api, acme["id"], summary="Cannot open CUsers share")
    assert summaries(tenant.api, {"q": r"C:\Users"}) == [r"Cannot open C:\Users\bob\Desktop"]
    assert summaries(tenant.api, {"q": "\\"}) == [r"Cannot open C:\Users\bob\Desktop"]
    assert summaries(tenant.api, {"q": r"open C\U"}) == []


@pytest.mark.parametrize("values", [[], ["a", "b"], ["01890a5d-ac96-774b-bcce-b302099a8057", 2]])
def test_a_hand_edited_cursor_is_refused_naming_after(tenant, values):
    open_ticket(tenant.api, tenant.client()["id"])
    refused = tenant.api.get("/api/v1/tickets", query_string={"after": cursor(values)})
    assert refused.status_code == 422, refused.json
    assert refused.content_type == "application/problem+json" and "after" in refused.json["errors"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("q", "printer\x00"), ("number", "99999999999999999999"), ("number", str(2**31)), ("number", "0")],
)
def test_a_search_the_database_cannot_hold_is_refused_naming_the_field(tenant, field, value):
    open_ticket(tenant.api, tenant.client()["id"])
    refused = tenant.api.get("/api/v1/tickets", query_string={field: value})
    assert refused.status_code == 422, refused.json
    assert refused.content_type == "application/problem+json" and field in refused.json["errors"]


def test_paging_stays_put_while_new_tickets_come_in_and_limits_are_bounded(tenant):
    acme = tenant.client("Acme")
    first = [open_ticket(tenant.api, acme["id"], summary=f"Old {n}")["summary"] for n in range(5)]
    page = tenant.api.get("/api/v1/tickets", query_string={"limit": 2}).json
    open_ticket(tenant.api, acme["id"], summary="Arrived while paging")
    seen = [t["summary"] for t in page["items"]]
    while page["next_cursor"]:
        page = tenant.api.get("/api/v1/tickets", query_string={"limit": 2, "after": page["next_cursor"]}).json
        seen += [t["summary"] for t in page["items"]]
    assert seen == first[::-1]
    for limit in (0, 201, "x"):
        refused = tenant.api.get("/api/v1/tickets", query_string={"limit": limit})
        assert refused.status_code == 422 and "limit" in refused.json["errors"]


def test_combined_filters_and_a_technician_sees_only_granted_clients(tenant):
    acme, river = tenant.client("Acme"), tenant.client("Riverside")
    tech = tenant.member("technician", grants=[acme["id"]])
    open_ticket(tenant.api, acme["id"], summary="Printer jams", priority="P1", assignee_id=tech.id)
    open_ticket(tenant.api, acme["id"], summary="Printer toner", priority="P2")
    open_ticket(tenant.api, river["id"], summary="Printer offline", priority="P1")
    assert summaries(tenant.api, {"q": "printer", "priority": "P1"}) == ["Printer offline", "Printer jams"]
    assert summaries(tenant.api, {"q": "printer", "assignee_id": "unassigned"}) == ["Printer offline", "Printer toner"]
    assert summaries(tech.api, {"q": "printer"}) == ["Printer toner", "Printer jams"]
    assert summaries(tech.api, {"client_id": river["id"]}) == []


# The printable reports


def activity(api, client, first, last, **extra):
    return api.get(
        f"/api/v1/clients/{client['id']}/activity-report.html", query_string={"from": first, "to": last, **extra}
    )


def test_aprils_report_shows_the_follow_up_logged_after_the_ticket_closed_in_march(tenant):
    client = tenant.client("Acme Dental")
    with clock.travel(dt.datetime(2026, 3, 2, 9, 0)):
        ticket = open_ticket(tenant.api, client["id"], summary="New laptop")
        log(tenant.api, ticket["id"], minutes=60, notes="Imaged the laptop", started_at="2026-03-02T10:00:00Z")
    with clock.travel(dt.datetime(2026, 3, 20, 9, 0)):
        assert tenant.api.patch(f"/api/v1/tickets/{ticket['id']}", json={"status": "Closed"}).status_code == 200
    with clock.travel(dt.datetime(2026, 4, 2, 9, 0)):
        follow_up = {"minutes": 15, "notes": "Checked the laptop a week on", "started_at": "2026-04-02T08:00:00Z"}
        followed = log(tenant.api, ticket["id"], **follow_up)
        assert followed.status_code == 201, followed.json
        note = {"text": "All good, closing again.", "internal": False}
        assert tenant.api.post(f"/api/v1/tickets/{ticket['id']}/notes", json=note).status_code == 201
    april = activity(tenant.api, client, "2026-04-01", "2026-04-30").get_data(as_text=True)
    assert "Checked the laptop a week on" in april and "All good, closing again." in april
    assert "1 request(s)" in april and "total time 0:15" in april and "Imaged the laptop" not in april
    march = activity(tenant.api, client, "2026-03-01", "2026-03-31").get_data(as_text=True)
    assert "Imaged the laptop" in march and "a week on" not in march and "total time 1:00" in march


def test_a_late_evening_call_logged_on_a_ticket_opened_next_morning_is_in_that_days_report(tenant):
    assert tenant.api.put("/api/v1/settings/business-hours", json=AMSTERDAM).status_code == 200
    client = tenant.client("Acme Dental")
    with clock.travel(dt.datetime(2026, 4, 1, 7, 0)):  # 09:00 in Amsterdam, the morning after
        ticket = open_ticket(tenant.api, client["id"], summary="Server down")
        # the on-call tech's call at 23:30 local on 31 March (21:30 UTC)
        call = {"minutes": 45, "notes": "Restarted the server", "started_at": "2026-03-31T21:30:00Z"}
        call = log(tenant.api, ticket["id"], **call)
        assert call.status_code == 201, call.json
    march = activity(tenant.api, client, "2026-03-31", "2026-03-31").get_data(as_text=True)
    assert "Restarted the server" in march and "2026-03-31 23:30 CEST" in march and "total time 0:45" in march
    april = activity(tenant.api, client, "2026-04-01", "2026-04-01").get_data(as_text=True)
    assert "Server down" in april and "Restarted the server" not in april and "total time 0:00" in april


def test_report_days_are_local_and_inclusive_and_nothing_internal_or_unescaped_prints(tenant):
    assert tenant.api.put("/api/v1/settings/business-hours", json=AMSTERDAM).status_code == 200
    client = tenant.client("Acme <Dental>")
    with clock.travel(dt.datetime(2026, 3, 30, 8, 0)):
        ticket = open_ticket(tenant.api, client["id"], summary="<script>alert('summary')</script>")
    path = f"/api/v1/tickets/{ticket['id']}"
    entries = [
        {"minutes": 0, "notes": "Called client. Left voicemail.", "started_at": "2026-03-31T21:59:00Z",
         "internal_notes": "Mailbox 49.5 GB", "outcome": "no_response"},  # 23:59 local, 31 March
        {"minutes": 30, "notes": "<script>alert('notes')</script>", "started_at": "2026-03-31T22:00:00Z",
         "billing": "no_charge"},  # 00:00 local, 1 April
    ]  # fmt: skip
    for entry in entries:
        assert log(tenant.api, ticket["id"], **entry).status_code == 201
    assert tenant.api.post(f"{path}/notes", json={"text": "Boss is impatient"}).status_code == 201
    march = activity(tenant.api, client, "2026-03-31", "2026-03-31").get_data(as_text=True)
    assert "Called client. Left voicemail. (no answer)" in march and "total time 0:00" in march
    assert "&lt;script&gt;alert(&#39;summary&#39;)&lt;/script&gt;" in march and "notes" not in march
    assert "Mailbox 49.5" not in march and "impatient" not in march and "<script>" not in march
    april = activity(tenant.api, client, "2026-04-01", "2026-04-01").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;notes&#39;)&lt;/script&gt;" in april and "<script>" not in april
    assert "0:30 (no charge)" in april and "Acme &lt;Dental&gt;" in april
    whole = tenant.api.get(f"{path}/report.html").get_data(as_text=True)
    assert "<script>" not in whole and "Mailbox 49.5" not in whole and "impatient" not in whole
    pdf = activity(tenant.api, client, "2026-03-31", "2026-04-01", format="pdf")
    assert pdf.content_type == "application/pdf" and pdf.data.startswith(b"%PDF")
    number = client["number"]
    assert pdf.headers["Content-Disposition"] == f'inline; filename="activity-{number}-2026-03-31-2026-04-01.pdf"'


def test_reports_of_clients_not_granted_or_of_another_tenant_read_as_not_found(tenant, other_tenant):
    acme, river = tenant.client("Acme"), tenant.client("Riverside")
    ticket = open_ticket(tenant.api, river["id"])
    tech = tenant.member("technician", grants=[acme["id"]])
    assert tech.api.get(f"/api/v1/tickets/{ticket['id']}/report.html").status_code == 404
    assert other_tenant.api.get(f"/api/v1/tickets/{ticket['id']}/report.html").status_code == 404
    assert activity(other_tenant.api, river, "2026-03-01", "2026-03-31").status_code == 404
    assert activity(tenant.api, river, "2026-03-31", "2026-03-01").status_code == 422


def test_a_report_covers_at_most_a_year_leap_years_included(tenant):
    client = tenant.client("Acme Dental")
    assert activity(tenant.api, client, "2026-01-01", "2026-12-31").status_code == 200
    assert activity(tenant.api, client, "2028-01-01", "2028-12-31").status_code == 200  # 366 days
    assert activity(tenant.api, client, "2028-02-29", "2029-02-28").status_code == 200
    for first, last in [("2026-01-01", "2027-01-01"), ("2027-01-01", "2028-01-01"), ("2028-02-29", "2029-03-01")]:
        refused = activity(tenant.api, client, first, last)
        assert refused.status_code == 422, (first, last)
        assert "to" in refused.json["errors"], refused.json
