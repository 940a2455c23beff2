"""The client's activity report, printed to PDF: what the client may read, nothing internal."""

import datetime as dt
import io
import threading
from concurrent.futures import ThreadPoolExecutor

from pypdf import PdfReader

from psa_shared import pdf
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


def test_pdfs_asked_at_once_print_one_after_the_other(tenant, monkeypatch):
    """Eight threads printing at once held eight layouts' memory; the printer takes them in turn."""
    import weasyprint

    _, path = mailbox_ticket(tenant, tenant.client())
    printing, most = [], []
    real_write = weasyprint.HTML.write_pdf

    def write_pdf(self, *args, **kwargs):
        printing.append(1)
        most.append(len(printing))
        try:
            return real_write(self, *args, **kwargs)
        finally:
            printing.pop()

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", write_pdf)
    start = threading.Barrier(3)

    def print_report():
        start.wait()
        return tenant.api.get(f"{path}/report.html?format=pdf")

    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: print_report(), range(3)))
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert max(most) == 1


def test_a_pdf_that_waits_too_long_for_the_printer_hears_503_and_when_to_retry(tenant, monkeypatch):
    _, path = mailbox_ticket(tenant, tenant.client())
    monkeypatch.setattr(pdf, "PRINT_WAIT_SECONDS", 0.2)
    with pdf._PRINTER:  # another request's report is printing
        busy = tenant.api.get(f"{path}/report.html?format=pdf")
        assert tenant.api.get(f"{path}/report.html").status_code == 200  # the HTML does not wait
    assert busy.status_code == 503 and busy.content_type == "application/problem+json"
    assert busy.headers["Retry-After"] == "5" and "retry" in busy.json["detail"]
    pdf_text(tenant.api.get(f"{path}/report.html?format=pdf"))  # the printer is free again
