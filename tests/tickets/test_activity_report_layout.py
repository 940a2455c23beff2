"""The printed activity report as the client reads it: every column on the page, and a user's
bidi controls kept inside the user's own text."""

import datetime as dt
import re

import weasyprint

from psa_tickets.servicedesk import clock
from psa_tickets.servicedesk.reports import closed_bidi, isolate, isolate_text

from .test_activity_report_pdf import pdf_text

HANDOUT = (
    "Sent the handout: https://contoso.sharepoint.com/:w:/r/sites/IT/_layouts/15/Doc.aspx?sourcedoc="
    "%7B5A0B1C2D-3E4F-5A6B-7C8D-9E0F1A2B3C4D%7D&file=Archiving%20old%20mail%20in%20Outlook.docx"
    "&action=default&mobileredirect=true"
)
LONG_NAME = "Maximilian-Alexander-Konstantin-Bartholomew-Featherstonehaugh-Wolfeschlegelsteinhausen"
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def ticket_with_call(tenant, client, notes: str, *, status: str | None = None) -> str:
    """A ticket opened 2026-03-02 09:00 UTC with a half-hour call on it; returns its path."""
    body = {"client_id": client["id"], "summary": "Archive old mail", **({"status": status} if status else {})}
    with clock.travel(dt.datetime(2026, 3, 2, 9, 0)):
        made = tenant.api.post("/api/v1/tickets", json=body)
    assert made.status_code == 201, made.json
    path = f"/api/v1/tickets/{made.json['id']}"
    call = {"minutes": 30, "notes": notes, "outcome": "no_response", "started_at": "2026-03-02T15:00:00Z"}
    assert tenant.api.post(f"{path}/time-entries", json=call).status_code == 201
    return path


def boxes(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from boxes(child)


def off_the_page(html: str) -> list:
    """Boxes of the trail table past the A4 page's right margin, and any box past its edge."""
    page = weasyprint.HTML(string=html, base_url="file:///").render().pages[0]
    edge, margin_edge = page.width, page.width - page._page_box.margin_right
    tables = [b for b in boxes(page._page_box) if type(b).__name__ == "TableBox"]
    assert tables, "no table laid out"
    past = [(b, margin_edge) for t in tables for b in boxes(t)]
    past += [(b, edge) for b in boxes(page._page_box) if b is not page._page_box]
    return [(type(b).__name__, getattr(b, "text", None), round(b.position_x + b.margin_width()))
            for b, limit in past if b.position_x + b.margin_width() > limit + 0.5]  # fmt: skip


def test_long_url_in_a_note_and_long_name_wrap_and_the_time_stays_on_the_a4_page(tenant):
    assert tenant.api.patch(f"/api/v1/members/{tenant.admin_id}", json={"name": LONG_NAME}).status_code == 200
    path = ticket_with_call(tenant, tenant.client("Contoso"), HANDOUT)
    html = tenant.api.get(f"{path}/report.html").get_data(as_text=True)
    assert off_the_page(html) == []
    text = pdf_text(tenant.api.get(f"{path}/report.html?format=pdf"))
    assert "0:30 Time on this request: 0:30" in text and "mobileredirect=true" in text.replace(" ", "")


def test_client_report_wraps_a_long_url_too(tenant):
    client = tenant.client("Contoso")
    ticket_with_call(tenant, client, HANDOUT)
    report = f"/api/v1/clients/{client['id']}/activity-report.html?from=2026-03-01&to=2026-03-31"
    assert off_the_page(tenant.api.get(report).get_data(as_text=True)) == []


def outside_isolates(html: str) -> str:
    """The document less every `<bdi>` element and FSI ... PDI run (the title's), after checking
    each closes what it opens."""
    isolates = r"<bdi>(.*?)</bdi>|\u2068(.*?)\u2069(?=[^\u2069]*</title>)"
    for inside in (a or b for a, b in re.findall(isolates, html, flags=re.S)):
        depth = 0
        for char in BIDI_CONTROLS.findall(inside):
            depth += -1 if char in "\u202c\u2069" else 1
            assert depth >= 0, f"closes more than it opens: {inside!r}"
        assert depth == 0, f"left open: {inside!r}"
    return re.sub(isolates, "", html, flags=re.S)


def spoofing_ticket(tenant, client) -> str:
    """Opened in status "S<RLO>x", moved to "W<RLO>y", with a call and a note holding a U+202E."""
    board = tenant.api.get("/api/v1/boards").json["items"][0]
    for name in (f"S{RLO}x", f"W{RLO}y"):
        made = tenant.api.post(f"/api/v1/boards/{board['id']}/statuses", json={"name": name, "kind": "open"})
        assert made.status_code == 201, made.json
    path = ticket_with_call(tenant, client, f"Called {RLO}back", status=f"S{RLO}x")
    with clock.travel(dt.datetime(2026, 3, 2, 16, 0)):
        assert tenant.api.patch(path, json={"status": f"W{RLO}y"}).status_code == 200
        note = {"text": f"Handout {RLO}sent", "internal": False}
        assert tenant.api.post(f"{path}/notes", json=note).status_code == 201
    return path


def test_right_to_left_override_in_status_and_notes_stays_inside_the_users_text(tenant):
    path = spoofing_ticket(tenant, tenant.client("Contoso"))
    html = tenant.api.get(f"{path}/report.html").get_data(as_text=True)
    rest = outside_isolates(html)
    assert not BIDI_CONTROLS.search(rest), "a bidi control outside any isolate"
    assert "Priority: P3" in rest and " (no answer)" in rest and "Activity report for" in rest
    text = pdf_text(tenant.api.get(f"{path}/report.html?format=pdf"))
    assert "Priority: P3 · Opened 2026-03-02 09:00 UTC" in text
    assert "(no answer)" in text and "rewsna" not in text and "ytiroirP" not in text
    assert "Status changed from Sx to Wy" in text  # the stored "... from S<RLO>x to ..." turned " to"


def test_right_to_left_override_in_a_client_name_does_not_turn_the_report_dates(tenant):
    client = tenant.client(f"Contoso {RLO}Ltd")
    spoofing_ticket(tenant, client)
    report = f"/api/v1/clients/{client['id']}/activity-report.html?from=2026-03-01&to=2026-03-31"
    html = tenant.api.get(report).get_data(as_text=True)
    assert "\u2069, 2026-03-01 to 2026-03-31</title>" in html  # FSI ... PDI around the name
    assert not BIDI_CONTROLS.search(outside_isolates(html))
    text = pdf_text(tenant.api.get(f"{report}&format=pdf"))
    assert "2026-03-01 to 2026-03-31 · 1 request(s) · total time 0:30" in text
    assert "Priority: P3 · Opened 2026-03-02 09:00 UTC" in text and "(no answer)" in text


def test_each_override_a_value_opens_is_closed_in_it_and_plain_text_is_left_alone():
    assert closed_bidi(f"S{RLO}x") == f"S{RLO}x\u202c"
    assert closed_bidi("\u2067a\u202bb") == "\u2067a\u202bb\u202c\u2069"  # innermost first
    assert closed_bidi("a\u202c\u2069b\u2068c\u202c") == "ab\u2068c\u2069"  # closers of nothing dropped
    assert closed_bidi("\u2066\u202ex\u2069y") == "\u2066\u202ex\u2069y"  # a PDI ends what it holds
    assert isolate("Called client. (ok)") == "Called client. (ok)"
    assert isolate(f"<b>{RLO}") == f"<bdi>&lt;b&gt;{RLO}\u202c</bdi>"
    assert isolate("שלום") == "<bdi>שלום</bdi>" and isolate_text("שלום") == "\u2068שלום\u2069"
