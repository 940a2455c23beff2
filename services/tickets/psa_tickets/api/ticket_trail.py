"""Notes, the trail and printable reports of a ticket, and a client's activity report."""

import datetime as dt

import marshmallow as ma
from flask import Response, jsonify
from flask.views import MethodView
from marshmallow import fields, validate

from psa_shared.errors import field_error
from psa_shared.fields import JsonBoolean, UtcDateTime
from psa_shared.pdf import html_to_pdf
from psa_shared.schemas import Schema
from psa_shared.web import Blueprint, ListArgs, keyset_page, page_schema, principal, whole_list

from ..directory.clients import get_client
from ..servicedesk import notes, reports
from ..servicedesk.models import Note
from ..servicedesk.tickets import get_ticket
from ..servicedesk.timeline import AUDIENCES, timeline
from . import fields as f

blp = Blueprint("ticket_trail", __name__, url_prefix="/api/v1/tickets/<uuid:ticket_id>", description="Notes and trail")
client_reports_blp = Blueprint(
    "client_reports", __name__, url_prefix="/api/v1/clients/<uuid:client_id>", description="Client activity reports"
)


class NoteSchema(Schema):
    id = fields.UUID(dump_only=True)
    ticket_id = fields.UUID(dump_only=True)
    author_id = fields.UUID(dump_only=True)
    text = f.name(max_length=20_000, trim=False)  # a pasted log may begin indented
    internal = JsonBoolean(load_default=True)
    created_at = UtcDateTime(dump_only=True)


class Actor(ma.Schema):
    id = fields.UUID(allow_none=True)
    name = fields.String()


class TimelineItem(ma.Schema):
    at = UtcDateTime()
    kind = fields.String()
    actor = fields.Nested(Actor)
    text = fields.String()
    internal = fields.Boolean()
    old_value = fields.String(allow_none=True)
    new_value = fields.String(allow_none=True)
    note_id = fields.UUID()
    time_entry_id = fields.UUID()
    minutes = fields.Integer()
    billing = fields.String()
    outcome = fields.String(allow_none=True)
    work_type = fields.String(allow_none=True)
    internal_notes = fields.String(allow_none=True)
    recorded_by = fields.Nested(Actor, allow_none=True)  # an entry logged for another member: who wrote it


Timeline = page_schema(TimelineItem, "Timeline")


class TimelineQuery(ma.Schema):
    audience = fields.String(load_default="internal", validate=validate.OneOf(AUDIENCES))


class PrintQuery(ma.Schema):
    format = fields.String(load_default="html", validate=validate.OneOf(("html", "pdf")))


# The report turns local days into UTC instants, which overflows datetime near year 1 or 9999.
report_day = validate.Range(min=dt.date(1900, 1, 1), max=dt.date(9000, 12, 31))


class ActivityQuery(PrintQuery):
    first = fields.Date(required=True, data_key="from", validate=report_day)
    last = fields.Date(required=True, data_key="to", validate=report_day)


@blp.route("/notes")
class Notes(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, page_schema(NoteSchema))
    def get(self, args, ticket_id):
        principal().require("ticket:read")
        return keyset_page(notes.ticket_notes(get_ticket(principal(), ticket_id)), Note, args)

    @blp.arguments(NoteSchema)
    @blp.response(201, NoteSchema)
    def post(self, data, ticket_id):
        """An internal note (default) or one the client sees (`internal: false`)."""
        principal().require("ticket:write")
        return notes.add_note(principal(), ticket_id, **data)


@blp.route("/timeline")
class TicketTimeline(MethodView):
    @blp.arguments(TimelineQuery, location="query")
    @blp.response(200, Timeline)
    def get(self, args, ticket_id):
        """Everything that happened to the ticket, oldest first; `audience=client` hides internal items."""
        principal().require("ticket:read")
        items = timeline(get_ticket(principal(), ticket_id), args["audience"], as_json=True)  # dumped already
        return jsonify(whole_list(items))


# Trail rows (items) one PDF may hold: WeasyPrint 70 lays the whole document out in memory, in
# one thread, and the worker keeps most of that memory afterwards. Measured 2026-11-27 (2 CPUs,
# embedded, a client's tickets and entries made through the API): an activity report of 500 rows
# printed in 4.1 s with peak RSS +91 MB (250 tickets of 2 rows; 6.5 s, +137 MB as 500 tickets of
# one row), 1,000 rows in 8.3 s, +178 MB, 4,000 rows in 35 s, +703 MB (gunicorn's timeout is
# 30 s); one ticket's 1,000-row report in 4.6 s, +85 MB. The 4,000-row HTML took 1.0-1.5 s.
PDF_MAX_ROWS = 500

# Characters of trail text (`reports.text_chars`) one PDF may hold: layout time grows with the
# text as well as the rows, and rows alone let 25 notes of 20,000 characters (the most a note
# holds) take 29.5 s. Measured 2026-11-28 (2 CPUs, html_to_pdf of the rendered report, notes
# kept line by line): 100,000 characters printed in 3.7-4.2 s as 5 notes of 20,000 or 250 notes
# of 400, 200,000 in 7.1-7.8 s; 500 rows of 200 characters on 250 tickets (100,000) in 8.1 s,
# 500 short rows (40 characters) in 3.5 s on one ticket and 6.0 s on 250.
PDF_MAX_TEXT = 100_000
TAKE_HTML = "take the HTML (format=html)"
NARROW_DATES = "narrow the dates, or take the HTML (format=html)"


def _pdf_fits(held: int, cap: int, unit: str, remedy: str) -> None:
    """Refuse a PDF holding more than `cap` rows or characters, before it is rendered (HTML has no cap)."""
    if held > cap:
        raise field_error("format", f"this report holds {held:,} {unit} and a PDF at most {cap:,}: {remedy}")


def _printable(report: reports.Report, args: dict, filename: str, remedy: str) -> Response:
    """The report as HTML, or as a PDF `filename` with `?format=pdf` if its text fits."""
    if args["format"] == "pdf":
        _pdf_fits(reports.text_chars(report), PDF_MAX_TEXT, "characters of notes", remedy)
        disposition = f'inline; filename="{filename}.pdf"'
        pdf = html_to_pdf(reports.render(report))
        return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": disposition})
    return Response(
        reports.render(report),
        mimetype="text/html",
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
    )


@blp.route("/report.html")
class TicketReport(MethodView):
    @blp.arguments(PrintQuery, location="query")
    @blp.response(200, content_type="text/html", description="HTML; a PDF with `format=pdf`")
    def get(self, args, ticket_id):
        """The ticket's client-facing trail, printable: HTML, or PDF with `?format=pdf`."""
        principal().require("ticket:read")
        ticket = get_ticket(principal(), ticket_id)
        if args["format"] == "pdf":  # counted in the database: a long trail is refused before it is read
            _pdf_fits(reports.ticket_report_rows(ticket), PDF_MAX_ROWS, "rows", TAKE_HTML)
        return _printable(reports.ticket_report(ticket), args, f"ticket-{ticket.number}", TAKE_HTML)


def _a_year_or_more(first: dt.date, last: dt.date) -> bool:
    """Whether `last` reaches the same date a year on (from 29 February: 1 March). Counted in
    days, 2026-01-01 to 2027-01-01, a year and a day, went through; compared as dates, year 9999
    needs no year 10000."""
    return (last.year - first.year, last.month, last.day) >= (1, first.month, first.day)


@client_reports_blp.route("/activity-report.html")
class ClientActivityReport(MethodView):
    @client_reports_blp.arguments(ActivityQuery, location="query")
    @client_reports_blp.response(200, content_type="text/html", description="HTML; a PDF with `format=pdf`")
    def get(self, args, client_id):
        """A client's requests with what was done from `from` to `to` (local dates, inclusive); HTML or PDF."""
        principal().require("report:read")
        client = get_client(principal(), client_id)
        if args["last"] < args["first"]:
            raise field_error("to", "must not be before 'from'")
        if _a_year_or_more(args["first"], args["last"]):
            raise field_error("to", "at most a year per report")
        if args["format"] == "pdf":
            rows = reports.client_activity_rows(client, args["first"], args["last"])
            _pdf_fits(rows, PDF_MAX_ROWS, "rows", NARROW_DATES)
        report = reports.client_activity_report(client, args["first"], args["last"])
        return _printable(report, args, f"activity-{client.number}-{args['first']}-{args['last']}", NARROW_DATES)
