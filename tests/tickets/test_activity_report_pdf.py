"""The client's activity report, printed to PDF: what the client may read, nothing internal."""

import datetime as dt
import io

from pypdf import PdfReader

from psa_tickets.servicedesk import clock

VOICEMAIL = "Called client. Left voicemail."


def pdf_text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.content_type == "application/pdf" and response.data.startswith(b"%PDF")
    pages = PdfReader(io.BytesIO(response.data)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def mailbox_ticket(tenant, client):
    with clock.travel(dt.datetime(2026, 3, 2, 9, 0)):
        made = tenant.api.post("/api/v1/tickets", json={"client_id": client["id"], "summary": "Clean out my mailbox"})
    path = f"/api/v1/tickets/{made.json['id']}"
    call = {"minutes": 0, "notes": VOICEMAIL, "outcome": "no_response", "started_at": "2026-03-02T15:00:00Z"}
    logged = tenant.api.post(f"{path}/time-entries", json={**call, "internal_notes": "Mailbox is at 49.5 of 50 GB."})
    assert logged.status_code == 201, logged.json
    with clock.travel(dt.datetime(2026, 3, 2, 15, 5)):
        assert tenant.api.post(f"{path}/notes", json={"text": "Boss is impatient; keep it short."}).status_code == 201
    return made.json, path


def test_voicemail_call_prints_in_the_ticket_pdf_and_internal_notes_do_not(tenant):
    client = tenant.client("Acme Dental")
    ticket, path = mailbox_ticket(tenant, client)
    response = tenant.api.get(f"{path}/report.html?format=pdf")
    assert response.headers["Content-Disposition"] == f'inline; filename="ticket-{ticket["number"]}.pdf"'
    text = pdf_text(response)
    assert VOICEMAIL in text and "(no answer)" in text and "0:00" in text and "Acme Dental" in text
    assert "49.5" not in text and "impatient" not in text
    assert tenant.api.get(f"{path}/report.html").content_type.startswith("text/html")  # HTML stays the default


def test_client_activity_report_prints_the_dates_asked_as_pdf(tenant):
    client = tenant.client("Acme Dental")
    _, path = mailbox_ticket(tenant, client)
    report = f"/api/v1/clients/{client['id']}/activity-report.html"
    text = pdf_text(tenant.api.get(f"{report}?from=2026-03-01&to=2026-03-31&format=pdf"))
    assert "Clean out my mailbox" in text and VOICEMAIL in text and "2026-03-02 15:00 UTC" in text
    assert "49.5" not in text and "impatient" not in text
    april = pdf_text(tenant.api.get(f"{report}?from=2026-04-01&to=2026-04-30&format=pdf"))
    assert "No activity in this period." in april and VOICEMAIL not in april


def test_unknown_print_format_is_refused_naming_the_field(tenant):
    _, path = mailbox_ticket(tenant, tenant.client())
    refused = tenant.api.get(f"{path}/report.html?format=docx")
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
    assert "format" in refused.json["errors"]


def test_activity_report_for_year_one_is_refused_naming_from_not_a_server_error(tenant):
    client = tenant.client("Dental Co")
    response = tenant.api.get(f"/api/v1/clients/{client['id']}/activity-report.html?from=0001-01-01&to=0001-01-01")
    assert response.status_code == 422 and "from" in response.json["errors"]
