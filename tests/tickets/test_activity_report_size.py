"""A PDF has a size bound: a report of more trail rows than the cap is refused, counted before
anything is rendered, and the HTML of it still prints (until 2026-11-27 a 4,000-row PDF held a
worker for 40 s and 750 MB)."""

import datetime as dt
import re

import pytest

from psa_tickets.api import ticket_trail
from psa_tickets.servicedesk import clock, reports

from .test_activity_report_pdf import pdf_text

CAP = 5
MARCH = "from=2026-03-01&to=2026-03-31"


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(ticket_trail, "PDF_MAX_ROWS", CAP, raising=False)  # absent before the cap


@pytest.fixture
def nothing_rendered(monkeypatch):
    """A refused PDF must not cost a read or a render: any report read, HTML or PDF made from
    here on fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("rendered although refused")

    monkeypatch.setattr(ticket_trail, "html_to_pdf", refuse)
    for name in ("client_activity_report", "ticket_report", "render"):
        monkeypatch.setattr(reports, name, refuse)


def open_ticket(tenant, client, when=dt.datetime(2026, 3, 2, 9, 0), summary="Printer jams") -> str:
    """A ticket opened at `when` (its "opened" row is one trail row); returns its path."""
    with clock.travel(when):
        made = tenant.api.post("/api/v1/tickets", json={"client_id": client["id"], "summary": summary})
    assert made.status_code == 201, made.json
    return f"/api/v1/tickets/{made.json['id']}"


def log_calls(tenant, path: str, count: int, day: str = "2026-03-03") -> None:
    for n in range(count):
        call = {"minutes": 5, "notes": f"Call {n + 1}", "started_at": f"{day}T{9 + n:02d}:00:00Z"}
        assert tenant.api.post(f"{path}/time-entries", json=call).status_code == 201


def ticket_of_rows(tenant, client, rows: int) -> str:
    path = open_ticket(tenant, client)
    log_calls(tenant, path, rows - 1)
    return path


def refused_for_size(response, rows: int) -> str:
    assert response.status_code == 422, (response.status_code, response.data[:300])
    assert response.content_type == "application/problem+json"
    assert list(response.json["errors"]) == ["format"]
    message = response.json["errors"]["format"][0]
    assert f"holds {rows} rows" in message and f"at most {CAP}" in message and "HTML" in message
    return message


def test_client_pdf_over_the_cap_is_refused_naming_format_before_anything_renders(tenant, small_cap, nothing_rendered):
    client = tenant.client("Acme Dental")
    ticket_of_rows(tenant, client, CAP + 1)
    report = f"/api/v1/clients/{client['id']}/activity-report.html?{MARCH}&format=pdf"
    message = refused_for_size(tenant.api.get(report), CAP + 1)
    assert "narrow the dates" in message


def test_client_pdf_at_the_cap_prints(tenant, small_cap):
    client = tenant.client("Acme Dental")
    ticket_of_rows(tenant, client, CAP)
    report = f"/api/v1/clients/{client['id']}/activity-report.html?{MARCH}&format=pdf"
    assert f"Call {CAP - 1}" in pdf_text(tenant.api.get(report))


def test_client_html_over_the_cap_still_prints(tenant, small_cap):
    client = tenant.client("Acme Dental")
    ticket_of_rows(tenant, client, CAP + 3)
    html = tenant.api.get(f"/api/v1/clients/{client['id']}/activity-report.html?{MARCH}")
    assert html.status_code == 200 and html.content_type.startswith("text/html")
    assert f"Call {CAP + 2}" in html.get_data(as_text=True)


def test_narrowing_the_dates_brings_the_pdf_under_the_cap(tenant, small_cap):
    client = tenant.client("Acme Dental")
    path = ticket_of_rows(tenant, client, CAP)  # March: the opening and four calls
    log_calls(tenant, path, 3, day="2026-04-07")
    report = f"/api/v1/clients/{client['id']}/activity-report.html"
    refused_for_size(tenant.api.get(f"{report}?from=2026-03-01&to=2026-04-30&format=pdf"), CAP + 3)
    assert "Call 3" in pdf_text(tenant.api.get(f"{report}?from=2026-04-01&to=2026-04-30&format=pdf"))


def test_ticket_pdf_over_the_cap_is_refused_and_its_html_still_prints(tenant, small_cap, nothing_rendered):
    path = ticket_of_rows(tenant, tenant.client("Acme Dental"), CAP + 1)
    message = refused_for_size(tenant.api.get(f"{path}/report.html?format=pdf"), CAP + 1)
    assert "narrow the dates" not in message  # a ticket's report has no dates to narrow


def test_ticket_pdf_at_the_cap_prints_and_html_over_it_too(tenant, small_cap):
    client = tenant.client("Acme Dental")
    at_cap = ticket_of_rows(tenant, client, CAP)
    assert f"Call {CAP - 1}" in pdf_text(tenant.api.get(f"{at_cap}/report.html?format=pdf"))
    over = ticket_of_rows(tenant, client, CAP + 2)
    html = tenant.api.get(f"{over}/report.html")
    assert html.status_code == 200 and f"Call {CAP + 1}" in html.get_data(as_text=True)


def printed_rows(html: str) -> int:
    """Rows of the trail tables: every `<tr>` less each table's header row."""
    return html.count("<tr>") - html.count("<thead>")


def counted_rows(response) -> int:
    assert response.status_code == 422, (response.status_code, response.data[:300])
    return int(re.search(r"holds ([\d,]+) rows", response.json["errors"]["format"][0])[1].replace(",", ""))


def test_rows_counted_are_the_rows_printed(tenant, monkeypatch):
    """Only what the client sees in the dates counts: not internal notes or estimates, not a
    call of April in March's report, not a ticket opened after it; a ticket opened before the
    range counts its call in it."""
    monkeypatch.setattr(ticket_trail, "PDF_MAX_ROWS", 0, raising=False)
    client = tenant.client("Acme Dental")
    february = open_ticket(tenant, client, dt.datetime(2026, 2, 10, 9, 0), "Old mailbox")
    log_calls(tenant, february, 1, day="2026-03-05")
    march = ticket_of_rows(tenant, client, 3)
    log_calls(tenant, march, 2, day="2026-04-02")
    with clock.travel(dt.datetime(2026, 3, 4, 9, 0)):
        assert tenant.api.post(f"{march}/notes", json={"text": "Boss is impatient."}).status_code == 201
        assert tenant.api.post(f"{march}/notes", json={"text": "Done.", "internal": False}).status_code == 201
        assert tenant.api.patch(march, json={"estimate_minutes": 90}).status_code == 200
    log_calls(tenant, open_ticket(tenant, client, dt.datetime(2026, 4, 9, 9, 0), "Later"), 1, day="2026-04-09")
    report = f"/api/v1/clients/{client['id']}/activity-report.html?{MARCH}"
    html = tenant.api.get(report).get_data(as_text=True)
    assert counted_rows(tenant.api.get(f"{report}&format=pdf")) == printed_rows(html) == 1 + 3 + 1
    whole = tenant.api.get(f"{march}/report.html").get_data(as_text=True)
    assert counted_rows(tenant.api.get(f"{march}/report.html?format=pdf")) == printed_rows(whole) == 3 + 2 + 1
