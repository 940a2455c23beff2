"""/api/v1/tickets: service requests, within the caller's client grants."""

import uuid

import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields, validate

from psa_shared.auth import within_grant_slots
from psa_shared.fields import UtcDateTime
from psa_shared.schemas import Schema
from psa_shared.statements import Shapes, Slot
from psa_shared.web import Blueprint, ListArgs, keyset_after, keyset_rows, page_schema, principal

from ..servicedesk import boards, clock, sla, tickets
from ..servicedesk.events import ticket_configuration_ids
from ..servicedesk.models import PRIORITIES, STATUS_KINDS, Ticket, TicketConfiguration
from . import fields as f

blp = Blueprint("tickets", __name__, url_prefix="/api/v1/tickets", description="Service requests")


def _breach(ticket: Ticket) -> dict:
    if getattr(ticket, "_breach", None) is None:  # three fields read it; work it out once
        at = sla.stopped_at(clock.now(), ticket.waiting_since, ticket.closed_at)
        respond = sla.breached(ticket.respond_due_at, ticket.responded_at, at)
        resolve = sla.breached(ticket.resolve_due_at, ticket.closed_at, at)
        ticket._breach = {"respond": respond, "resolve": resolve}
    return ticket._breach


class TicketSchema(Schema):
    id = fields.UUID(dump_only=True)
    number = fields.Integer(dump_only=True)
    client_id = fields.UUID(dump_only=True)
    contact_id = fields.UUID(dump_only=True, allow_none=True)
    board_id = fields.UUID(dump_only=True)
    status = fields.Function(lambda t: boards.status_by_id(t.status_id).name)
    status_kind = fields.String(dump_only=True)
    priority = fields.String()
    summary = fields.String()
    description = fields.String(allow_none=True)
    assignee_id = fields.UUID(dump_only=True, allow_none=True)
    estimate_minutes = fields.Integer(allow_none=True)
    spent_minutes = fields.Integer()
    configuration_ids = fields.Method("_configuration_ids")
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    closed_at = UtcDateTime(allow_none=True)
    responded_at = UtcDateTime(allow_none=True)
    respond_due_at = UtcDateTime(allow_none=True)
    resolve_due_at = UtcDateTime(allow_none=True)
    respond_breached = fields.Function(lambda t: _breach(t)["respond"])
    resolve_breached = fields.Function(lambda t: _breach(t)["resolve"])
    breached = fields.Function(lambda t: any(_breach(t).values()))

    def _configuration_ids(self, ticket):
        return [str(c) for c in ticket_configuration_ids(ticket)]


class TicketInput(ma.Schema):
    client_id = fields.UUID(required=True)
    contact_id = fields.UUID(allow_none=True)
    board_id = fields.UUID(allow_none=True)
    status = fields.String(validate=validate.Length(min=1, max=60))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    summary = f.name()
    description = f.text(20_000)
    assignee_id = fields.UUID(allow_none=True)
    estimate_minutes = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=1_000_000))
    configuration_ids = fields.List(fields.UUID(), validate=validate.Length(max=100))


class TicketPatch(TicketInput):
    class Meta:
        exclude = ("client_id", "board_id")


def assignee_filter(value: str):
    if value == "unassigned":
        return value
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ma.ValidationError("a member id or 'unassigned'") from None


class TicketQuery(ListArgs):
    client_id = fields.UUID()
    board_id = fields.UUID()
    status_kind = fields.String(validate=validate.OneOf(STATUS_KINDS))
    assignee_id = fields.Function(deserialize=assignee_filter)
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    q = fields.String(validate=validate.Length(min=1, max=200))
    number = fields.Integer()


FILTERS = {
    "client_id": Ticket.client,
    "board_id": Ticket.board,
    "status_kind": Ticket.status_kind,
    "priority": Ticket.priority,
    "number": Ticket.number,
    "assignee_id": Ticket.assignee,
    "q": Ticket.summary,
}


def _page_query(shape: tuple):
    """The list's statement for one combination of filters (and number of granted clients)."""
    filters, unassigned, after, grants = shape
    query = within_grant_slots(Ticket.select(), grants, Ticket.client)
    for name in filters:
        column = FILTERS[name]
        query = query.where(column.contains(Slot(name)) if name == "q" else column == Slot(name))
    if unassigned:
        query = query.where(Ticket.assignee.is_null())
    if after:
        query = query.where(Ticket.id < Slot("after"))
    return query.order_by(Ticket.id.desc()).limit(Slot("limit"))


_PAGES = Shapes(_page_query)


def _page(args: dict) -> dict:
    p = principal()
    values = {name: args[name] for name in FILTERS if name in args and args[name] != "unassigned"}
    after = keyset_after(args)
    shape = (tuple(values), args.get("assignee_id") == "unassigned", after is not None, p.grants_shape)
    values.update(p.grant_values(), after=after, limit=args["limit"] + 1)
    return keyset_rows(_PAGES[shape].models(**values), args)


_LINKS = Shapes(
    lambda count: TicketConfiguration.select(TicketConfiguration.ticket, TicketConfiguration.configuration_id).where(
        TicketConfiguration.ticket.in_([Slot(f"t{n}") for n in range(count)])
    )
)


def _with_configurations(rows: list) -> list:
    """One query for the page's configuration ids instead of one per ticket."""
    found: dict = {t.id: [] for t in rows}
    if found:
        for link in _LINKS[len(found)].models(**{f"t{n}": ticket_id for n, ticket_id in enumerate(found)}):
            found[link.ticket_id].append(link.configuration_id)
    for ticket in rows:
        ticket._configuration_ids = found[ticket.id]
    return rows


@blp.route("")
class Tickets(MethodView):
    @blp.arguments(TicketQuery, location="query")
    @blp.response(200, page_schema(TicketSchema))
    def get(self, args):
        """Tickets of the caller's clients, newest first; `assignee_id=unassigned` for the unowned."""
        principal().require("ticket:read")
        page = _page(args)
        _with_configurations(page["items"])
        return page

    @blp.arguments(TicketInput)
    @blp.response(201, TicketSchema)
    def post(self, data):
        """Open a ticket on the board given (or the default board), in its default status unless named."""
        principal().require("ticket:write")
        return tickets.create_ticket(principal(), **data)


@blp.route("/<uuid:ticket_id>")
class TicketById(MethodView):
    @blp.response(200, TicketSchema)
    def get(self, ticket_id):
        principal().require("ticket:read")
        return tickets.get_ticket(principal(), ticket_id)

    @blp.arguments(TicketPatch(partial=True), required=False)
    @blp.response(200, TicketSchema)
    def patch(self, data, ticket_id):
        """Change status (by name, on the ticket's board), priority, assignee, estimate, text or configurations."""
        principal().require("ticket:write")
        return tickets.update_ticket(principal(), ticket_id, **data)
