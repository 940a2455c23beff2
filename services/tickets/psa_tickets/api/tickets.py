"""/api/v1/tickets: service requests, within the caller's client grants."""

import functools
import uuid
from collections.abc import Callable
from typing import NamedTuple

import marshmallow as ma
import peewee
from flask import jsonify
from flask.views import MethodView
from marshmallow import fields, validate

from psa_shared.auth import within_grant_slots
from psa_shared.db import casefolded
from psa_shared.fields import TrimmedString, UtcDateTime
from psa_shared.schemas import Schema, column_dumps
from psa_shared.statements import Shapes, Slot, python_value
from psa_shared.web import Blueprint, ListArgs, encode_cursor, keyset_after, keyset_rows, page_schema, principal

from ..database import db
from ..servicedesk import boards, clock, sla, tickets
from ..servicedesk.events import ticket_configuration_ids
from ..servicedesk.models import PRIORITIES, STATUS_KINDS, Ticket, TicketConfiguration
from . import fields as f

blp = Blueprint("tickets", __name__, url_prefix="/api/v1/tickets", description="Service requests")


def _breach(ticket: Ticket) -> dict:
    if getattr(ticket, "_breach", None) is None:  # three fields read it; work it out once
        ticket._breach = sla.ticket_breaches(clock.now(), ticket)
    return ticket._breach


# The types of the computed fields below, for the OpenAPI document: apispec cannot tell what a
# Function or Method field dumps, and without them the document said nothing of these values.
# (Metadata, not subclasses: `psa_shared.schemas` dumps Function and Method fields by exact type.)
BREACHED = {"type": "boolean"}


class TicketSchema(Schema):
    id = fields.UUID(dump_only=True)
    number = fields.Integer(dump_only=True)
    client_id = fields.UUID(dump_only=True)
    contact_id = fields.UUID(dump_only=True, allow_none=True)
    board_id = fields.UUID(dump_only=True)
    status = fields.Function(
        lambda t: boards.status_by_id(t.status_id).name,
        metadata={"type": "string", "description": "the name of its status on its board"},
    )
    status_kind = fields.String(dump_only=True)
    priority = fields.String()
    summary = fields.String()
    description = fields.String(allow_none=True)
    assignee_id = fields.UUID(dump_only=True, allow_none=True)
    estimate_minutes = fields.Integer(allow_none=True)
    spent_minutes = fields.Integer()
    configuration_ids = fields.Method(
        "_configuration_ids", metadata={"type": "array", "items": {"type": "string", "format": "uuid"}}
    )
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    closed_at = UtcDateTime(allow_none=True)
    responded_at = UtcDateTime(allow_none=True)
    respond_due_at = UtcDateTime(allow_none=True)
    resolve_due_at = UtcDateTime(allow_none=True)
    respond_breached = fields.Function(lambda t: _breach(t)["respond"], metadata=BREACHED)
    resolve_breached = fields.Function(lambda t: _breach(t)["resolve"], metadata=BREACHED)
    breached = fields.Function(
        lambda t: any(_breach(t).values()), metadata={**BREACHED, "description": "respond_breached or resolve_breached"}
    )

    def _configuration_ids(self, ticket):
        return [str(c) for c in ticket_configuration_ids(ticket)]


class TicketInput(ma.Schema):
    client_id = fields.UUID(required=True)
    contact_id = fields.UUID(allow_none=True)
    board_id = fields.UUID(allow_none=True)
    status = TrimmedString(validate=validate.Length(min=1, max=60))  # as status names are stored
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    summary = f.name()
    description = f.text(20_000)
    assignee_id = fields.UUID(allow_none=True)
    estimate_minutes = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=1_000_000))
    configuration_ids = fields.List(fields.UUID(), validate=validate.Length(max=100))


class TicketPatch(TicketInput):
    board_id = fields.UUID()  # a move: the status follows (see servicedesk.tickets._alike_status)

    class Meta:
        exclude = ("client_id",)


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
    assignee_id = fields.Function(
        deserialize=assignee_filter,
        metadata={
            "type": "string",
            "anyOf": [{"format": "uuid"}, {"enum": ["unassigned"]}],
            "description": "a member's id, or `unassigned` for tickets nobody holds",
        },
    )
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    # PostgreSQL text holds no NUL character and its integer column no number past 2**31 - 1 (SQLite's
    # past 2**63 - 1): either was a 500 until 2026-11-26.
    q = fields.String(validate=[validate.Length(min=1, max=200), validate.ContainsNoneOf("\x00")])
    number = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


FILTERS = {
    "client_id": Ticket.client,
    "board_id": Ticket.board,
    "status_kind": Ticket.status_kind,
    "priority": Ticket.priority,
    "number": Ticket.number,
    "assignee_id": Ticket.assignee,
    "q": Ticket.summary,
}


def _summary_like(column, slot: Slot):
    """`column ILIKE ? ESCAPE '\\'`, the pattern made by `_contains_pattern`: peewee's `contains` with a
    parameter concatenates `'%' || ? || '%'`, so a `%` or `_` typed in the search box was a
    wildcard (`q=%` listed every ticket) and, on PostgreSQL, a backslash an escape (`C:\\Users`
    found nothing)."""
    return peewee.Expression(
        column, peewee.OP.ILIKE, peewee.NodeList((slot, peewee.SQL("ESCAPE"), peewee.Value("\\", converter=False)))
    )


def _contains_pattern(text: str) -> str:
    """The LIKE pattern matching `text` anywhere, each character of it literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# Filters with no index of their own: each matches a fifth of a tenant's tickets or more, or is a
# substring. Their page walks the tickets the other filters leave, newest first, until it is full,
# and at most WINDOW of them: "waiting and P1" matching nothing in a million tickets read every
# one of them (360 ms on SQLite) for an empty answer. A page that stops at the window comes back
# short, even empty, with a `next_cursor` to read on from where it stopped.
BROAD = ("board_id", "status_kind", "priority", "q")
WINDOW = 10_000


def _filtered(query, filters: tuple, folded: bool, unassigned: bool, after: bool, grants):
    query = within_grant_slots(query, grants, Ticket.client)
    for name in filters:
        column = FILTERS[name]
        if name == "q":
            query = query.where(_summary_like(casefolded(column) if folded else column, Slot(name)))
        else:
            query = query.where(column == Slot(name))
    if unassigned:
        query = query.where(Ticket.assignee.is_null())
    if after:
        query = query.where(Ticket.id < Slot("after"))
    return query


def _page_query(shape: tuple):
    """The list's statement for one combination of filters (and number of granted clients)."""
    filters, folded, unassigned, after, grants, windowed = shape
    query = _filtered(Ticket.select(), filters, folded, unassigned, after, grants)
    if windowed:
        query = query.where(Ticket.id >= Slot("window_end"))
    return query.order_by(Ticket.id.desc()).limit(Slot("limit"))


def _window_query(shape: tuple):
    """The ids of the WINDOW-th ticket below the cursor that the indexed filters leave and of the
    one after it: the lowest a page of broad filters reads, if more are left below it (an
    index-only walk)."""
    filters, unassigned, after, grants = shape
    query = _filtered(Ticket.select(Ticket.id), filters, False, unassigned, after, grants)
    return query.order_by(Ticket.id.desc()).limit(2).offset(Slot("window"))


_PAGES, _WINDOWS = Shapes(_page_query), Shapes(_window_query)


def _page(args: dict) -> dict:
    p = principal()
    values = {name: args[name] for name in FILTERS if name in args and args[name] != "unassigned"}
    folded = "q" in values and not db.folds_case(values["q"])  # see ServiceDatabase.contains
    if "q" in values:
        values["q"] = _contains_pattern(values["q"].casefold() if folded else values["q"])
    after, unassigned = keyset_after(args), args.get("assignee_id") == "unassigned"
    filters = tuple(values)
    indexed = tuple(name for name in filters if name not in BROAD)
    values.update(p.grant_values(), after=after, limit=args["limit"] + 1, window=WINDOW - 1)
    window_end = None
    if indexed != filters:
        bounds = _WINDOWS[(indexed, unassigned, after is not None, p.grants_shape)].rows(**values)
        window_end = bounds[0][0] if len(bounds) == 2 else None  # none: the page reads to the end
    shape = (filters, folded, unassigned, after is not None, p.grants_shape, window_end is not None)
    ticket_id = _row_dump().ticket_id
    page = keyset_rows(_PAGES[shape].rows(**values, window_end=window_end), args, lambda row: [str(ticket_id(row))])
    if window_end is not None and page["next_cursor"] is None:
        page["next_cursor"] = encode_cursor([str(_ticket_id(window_end))])  # read on below the window
    page["items"] = _listed(page["items"])
    return page


_ticket_id = python_value(Ticket.id)


COMPUTED = {"status", "configuration_ids", "respond_breached", "resolve_breached", "breached"}


class RowDump(NamedTuple):
    direct: list  # (key, column index, dump of the raw value)
    read: dict  # column name: (index, raw value to Python value), for the computed fields
    ticket_id: Callable  # row -> the ticket's id


@functools.cache
def _row_dump() -> RowDump:
    """How a row of the list's select dumps as TicketSchema dumps a ticket (a test holds them
    equal): most columns straight from the driver's value; the computed fields from the few
    columns they read, as Python values."""
    columns = Ticket._meta.sorted_fields
    direct, rest = column_dumps(TicketSchema(), columns)
    if set(rest) != COMPUTED:
        raise RuntimeError(f"the ticket list does not know how to dump {sorted(set(rest) - COMPUTED)}")
    at = {column.name: index for index, column in enumerate(columns)}
    read = {name: (at[name], python_value(Ticket._meta.fields[name])) for name in ("id", "status", *sla.TICKET_COLUMNS)}
    index, read_id = read.pop("id")
    return RowDump(direct, read, lambda row: read_id(row[index]))


def _listed(rows: list[tuple]) -> list[dict]:
    """A page of tickets as TicketSchema dumps them, without a model instance per row: a page
    holds up to 200, and reading then dumping each through the ORM took most of the request."""
    direct, read, ticket_id = _row_dump()
    now, items = clock.now(), {}
    for row in rows:
        item = {key: None if (raw := row[index]) is None else dump(raw) for key, index, dump in direct}
        values = {name: None if (raw := row[at]) is None else convert(raw) for name, (at, convert) in read.items()}
        breach = sla.breaches(now, **{name: values[name] for name in sla.TICKET_COLUMNS})
        item["status"] = boards.status_by_id(values["status"]).name
        item["respond_breached"], item["resolve_breached"] = breach["respond"], breach["resolve"]
        item["breached"] = breach["respond"] or breach["resolve"]
        items[ticket_id(row)] = item
    for ticket, configurations in _configurations(list(items)).items():
        items[ticket]["configuration_ids"] = [str(c) for c in sorted(configurations, key=str)]
    return list(items.values())


_LINKS = Shapes(
    lambda count: TicketConfiguration.select(TicketConfiguration.ticket, TicketConfiguration.configuration_id).where(
        TicketConfiguration.ticket.in_([Slot(f"t{n}") for n in range(count)])
    )
)


def _configurations(ticket_ids: list) -> dict:
    """One query for the page's configuration ids instead of one per ticket."""
    found: dict = {ticket_id: [] for ticket_id in ticket_ids}
    if found:
        for link in _LINKS[len(found)].models(**{f"t{n}": ticket_id for n, ticket_id in enumerate(found)}):
            found[link.ticket_id].append(link.configuration_id)
    return found


@blp.route("")
class Tickets(MethodView):
    @blp.arguments(TicketQuery, location="query")
    @blp.response(200, page_schema(TicketSchema))
    def get(self, args):
        """Tickets of the caller's clients, newest first; `assignee_id=unassigned` for the unowned."""
        principal().require("ticket:read")
        return jsonify(_page(args))  # items already dumped (see _listed)

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
        """Change status (by name, on the ticket's board), board, priority, assignee, estimate, text, configurations."""
        principal().require("ticket:write")
        return tickets.update_ticket(principal(), ticket_id, **data)
