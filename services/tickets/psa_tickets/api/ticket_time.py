"""/api/v1/tickets/{id}/time-entries: work logged on a ticket (zero minutes included)."""

from flask.views import MethodView
from marshmallow import fields, validate

from psa_shared.fields import UtcDateTime
from psa_shared.schemas import Schema
from psa_shared.web import Blueprint, ListArgs, keyset_page, page_schema, principal

from ..servicedesk import time_entries
from ..servicedesk.models import BILLING_OPTIONS, OUTCOMES, TimeEntry
from ..servicedesk.tickets import get_ticket
from . import fields as f

blp = Blueprint(
    "ticket_time", __name__, url_prefix="/api/v1/tickets/<uuid:ticket_id>/time-entries", description="Time entries"
)


class TimeEntrySchema(Schema):
    id = fields.UUID(dump_only=True)
    ticket_id = fields.UUID(dump_only=True, allow_none=True)  # none on a project task's entry
    member_id = fields.UUID()  # whose work it is
    recorded_by_id = fields.UUID(dump_only=True, allow_none=True)  # who logged it (null: before 2026-11-27)
    started_at = UtcDateTime()
    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=time_entries.MAX_MINUTES))
    billing = fields.String(validate=validate.OneOf(BILLING_OPTIONS))
    notes = f.text(10_000)
    internal_notes = f.text(10_000)
    outcome = fields.String(allow_none=True, validate=validate.OneOf(OUTCOMES))
    work_type = f.text(60)
    billed_invoice_id = fields.UUID(dump_only=True, allow_none=True)  # until invoiced
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


@blp.route("")
class TimeEntries(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, page_schema(TimeEntrySchema))
    def get(self, args, ticket_id):
        """The ticket's time entries, newest first."""
        principal().require("ticket:read")
        ticket = get_ticket(principal(), ticket_id)
        return keyset_page(TimeEntry.select().where(TimeEntry.ticket == ticket.id), TimeEntry, args)

    @blp.arguments(TimeEntrySchema)
    @blp.response(201, TimeEntrySchema)
    def post(self, data, ticket_id):
        """Log work; may auto-close a ticket waiting on the client (see the board's policy)."""
        principal().require("time:write")
        ticket = get_ticket(principal(), ticket_id)
        return time_entries.log_time(principal(), ticket=ticket, **data)


@blp.route("/<uuid:entry_id>")
class TimeEntryById(MethodView):
    @blp.response(200, TimeEntrySchema)
    def get(self, ticket_id, entry_id):
        principal().require("ticket:read")
        return time_entries.get_entry(entry_id, ticket=get_ticket(principal(), ticket_id))

    @blp.arguments(TimeEntrySchema(partial=True), required=False)
    @blp.response(200, TimeEntrySchema)
    def patch(self, data, ticket_id, entry_id):
        """Edit an unbilled entry (409 once it is on a posted invoice)."""
        principal().require("time:write")
        entry = time_entries.get_entry(entry_id, ticket=get_ticket(principal(), ticket_id))
        return time_entries.update_time_entry(principal(), entry, **data)

    @blp.response(204)
    def delete(self, ticket_id, entry_id):
        principal().require("time:write")
        entry = time_entries.get_entry(entry_id, ticket=get_ticket(principal(), ticket_id))
        time_entries.delete_time_entry(principal(), entry)
