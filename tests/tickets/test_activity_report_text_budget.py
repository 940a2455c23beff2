"""A PDF is bound by the text it lays out as well as by its rows, and a note prints line by line.

Until 2026-11-28 a ticket with 25 client-visible notes of 20,000 characters (the most a note
holds: a pasted log) took 29.5 s to print as a PDF, against gunicorn's 30 s, while every other
PDF of the worker waited; and a note's line breaks and indentation printed as one run-on line."""

import io
import re
import time

import pytest
from pypdf import PdfReader

from psa_tickets.api import ticket_trail
from psa_tickets.servicedesk import reports

from .test_activity_report_layout import ticket_with_call
from .test_activity_report_size import MARCH, log_calls, open_ticket

PASTED_LOG = "x" * 19_989 + "\nend of log"  # 20,000 characters, the most a note may hold
LOG_EXCERPT = "Outlook profile rebuilt\nSteps taken:\n  1. closed Outlook\n    2. renamed the OST"


@pytest.fixture
def nothing_rendered(monkeypatch):
    """A refused PDF is read but must not cost a render: any HTML or PDF made fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("rendered although refused")

    monkeypatch.setattr(ticket_trail, "html_to_pdf", refuse)
    monkeypatch.setattr(reports, "render", refuse)


def add_notes(tenant, path: str, text: str, count: int, *, internal: bool = False) -> None:
    for _ in range(count):
        added = tenant.api.post(f"{path}/notes", json={"text": text, "internal": internal})
        assert added.status_code == 201, added.json


def refused_for_text(response) -> tuple[int, int, str]:
    """(characters held, the budget, the message) of a PDF refused for its text."""
    assert response.status_code == 422, (response.status_code, response.data[:300])
    assert response.content_type == "application/problem+json"
    assert list(response.json["errors"]) == ["format"]
    message = response.json["errors"]["format"][0]
    held, most = re.search(r"holds ([\d,]+) characters of notes and a PDF at most ([\d,]+): ", message).groups()
    assert "take the HTML (format=html)" in message
    return int(held.replace(",", "")), int(most.replace(",", "")), message


def test_ticket_of_25_pasted_logs_is_refused_as_pdf_at_once_and_prints_as_html(tenant, nothing_rendered):
    path = open_ticket(tenant, tenant.client("Acme Dental"))
    add_notes(tenant, path, PASTED_LOG, 25)
    started = time.perf_counter()
    held, most, message = refused_for_text(tenant.api.get(f"{path}/report.html?format=pdf"))
    assert time.perf_counter() - started < 2  # printing it took 29.5 s
    assert held >= 25 * 20_000 and most == ticket_trail.PDF_MAX_TEXT == 100_000
    assert "narrow the dates" not in message  # a ticket's report has no dates to narrow


def test_html_of_a_report_too_long_for_a_pdf_still_prints(tenant):
    path = open_ticket(tenant, tenant.client("Acme Dental"))
    add_notes(tenant, path, PASTED_LOG, 6)
    refused_for_text(tenant.api.get(f"{path}/report.html?format=pdf"))
    html = tenant.api.get(f"{path}/report.html")
    assert html.status_code == 200 and html.get_data(as_text=True).count("end of log") == 6


def test_characters_counted_are_the_client_visible_text_and_a_report_at_the_budget_prints(tenant, monkeypatch):
    """Internal notes do not print, so they do not count; at the budget the PDF prints, one
    character over it is refused."""
    path = open_ticket(tenant, tenant.client("Acme Dental"))
    add_notes(tenant, path, "Mailbox is at 49.5 of 50 GB.", 3, internal=True)
    add_notes(tenant, path, LOG_EXCERPT, 2)
    log_calls(tenant, path, 2)
    monkeypatch.setattr(ticket_trail, "PDF_MAX_TEXT", 0)
    held, _, _ = refused_for_text(tenant.api.get(f"{path}/report.html?format=pdf"))
    items = tenant.api.get(f"{path}/timeline?audience=client").json["items"]
    assert held == sum(len(item["text"]) for item in items) and held > 2 * len(LOG_EXCERPT)
    monkeypatch.setattr(ticket_trail, "PDF_MAX_TEXT", held - 1)
    refused_for_text(tenant.api.get(f"{path}/report.html?format=pdf"))
    monkeypatch.setattr(ticket_trail, "PDF_MAX_TEXT", held)
    assert "Call 2" in "\n".join(pdf_lines(tenant.api.get(f"{path}/report.html?format=pdf")))


def test_client_pdf_over_the_budget_is_refused_and_narrowing_the_dates_prints_it(tenant, monkeypatch):
    client = tenant.client("Acme Dental")
    path = open_ticket(tenant, client)  # March: its opening and the calls
    log_calls(tenant, path, 2)
    log_calls(tenant, path, 2, day="2026-04-07")
    report = f"/api/v1/clients/{client['id']}/activity-report.html"
    monkeypatch.setattr(ticket_trail, "PDF_MAX_TEXT", 0)
    march, _, _ = refused_for_text(tenant.api.get(f"{report}?{MARCH}&format=pdf"))
    both, _, message = refused_for_text(tenant.api.get(f"{report}?from=2026-03-01&to=2026-04-30&format=pdf"))
    assert both == march + len("Call 1") + len("Call 2") and "narrow the dates" in message
    monkeypatch.setattr(ticket_trail, "PDF_MAX_TEXT", march)
    refused_for_text(tenant.api.get(f"{report}?from=2026-03-01&to=2026-04-30&format=pdf"))
    assert "Call 2" in "\n".join(pdf_lines(tenant.api.get(f"{report}?{MARCH}&format=pdf")))
    assert tenant.api.get(f"{report}?from=2026-03-01&to=2026-04-30").status_code == 200


def pdf_lines(response) -> list[str]:
    """The PDF's text line by line, each line's leading spaces kept as pypdf lays them out."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    pages = PdfReader(io.BytesIO(response.data)).pages
    return [line.rstrip() for page in pages for line in page.extract_text(extraction_mode="layout").splitlines()]


def test_a_note_prints_its_lines_and_indentation_in_html_and_pdf(tenant):
    client = tenant.client("Contoso")
    path = ticket_with_call(tenant, client, "multi\nline\n  indented")
    add_notes(tenant, path, LOG_EXCERPT, 1)
    html = tenant.api.get(f"{path}/report.html").get_data(as_text=True)
    assert re.search(r"\.what \{[^}]*white-space: pre-wrap", html)
    assert '<td class="what">multi\nline\n  indented (no answer)</td>' in html  # escaped as before, not reflowed
    lines = pdf_lines(tenant.api.get(f"{path}/report.html?format=pdf"))
    multi = next(n for n, line in enumerate(lines) if " multi " in line)
    assert "line" not in lines[multi] and "indented" not in lines[multi + 1]  # one line of the note each
    assert abs(lines[multi + 1].index("line") - lines[multi].index("multi")) <= 2  # pypdf places columns roughly
    assert lines[multi + 2].index("indented") > lines[multi + 1].index("line")  # still indented
    steps = next(n for n, line in enumerate(lines) if "1. closed Outlook" in line)
    assert lines[steps + 1].index("2.") > lines[steps].index("1.") > lines[steps - 1].index("Steps")
    report = f"/api/v1/clients/{client['id']}/activity-report.html?{MARCH}"
    assert '<td class="what">multi\nline\n  indented (no answer)</td>' in tenant.api.get(report).get_data(as_text=True)
