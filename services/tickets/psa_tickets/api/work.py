"""/api/v1/work: the work queue, open tickets and not-done tasks together, most urgent first."""

from flask.views import MethodView
from marshmallow import fields, validate

from psa_shared.errors import field_error
from psa_shared.fields import QueryBoolean, UtcDateTime
from psa_shared.schemas import Schema
from psa_shared.web import Blueprint, ListArgs, page_schema, principal

from ..reports.work_queue import work_page

blp = Blueprint("work", __name__, url_prefix="/api/v1/work", description="The work queue")


class WorkItemSchema(Schema):
    kind = fields.String(validate=validate.OneOf(("ticket", "task")))
    id = fields.UUID()
    number = fields.Integer(allow_none=True)
    summary = fields.String()
    client_id = fields.UUID()
    priority = fields.String()
    assignee_id = fields.UUID(allow_none=True)
    assignee_active = fields.Boolean(
        required=True,  # in the OpenAPI document: every item carries it
        allow_none=True,
        dump_default=None,  # the queue leaves it out of unassigned items
        metadata={"description": "false: the assignee has left; null when unassigned"},
    )
    due_at = UtcDateTime(
        allow_none=True,
        metadata={
            "description": "tickets: the next SLA target, the response's until a member responded, "
            "then the resolution's; tasks: the task's own; null: none"
        },
    )
    breached = fields.Boolean(
        required=True,
        metadata={"description": "tickets: respond_breached or resolve_breached; tasks: due_at has passed"},
    )
    created_at = UtcDateTime()
    estimate_minutes = fields.Integer(allow_none=True)
    remaining_minutes = fields.Integer(allow_none=True)


class WorkQuery(ListArgs):
    # the rule spans both parameters, which OpenAPI keeps apart: their descriptions tell a client
    member_id = fields.UUID(metadata={"description": "the member's work only; not with unassigned=true (422)"})
    unassigned = QueryBoolean(metadata={"description": "true: work nobody holds only; not with member_id (422)"})


@blp.route("")
class Work(MethodView):
    @blp.arguments(WorkQuery, location="query")
    @blp.response(200, page_schema(WorkItemSchema))
    def get(self, args):
        """By priority (P1 first), then due time (none last), then age (oldest first)."""
        principal().require("ticket:read")
        if args.get("unassigned") and "member_id" in args:
            raise field_error("unassigned", "give member_id or unassigned=true, not both")
        return work_page(principal(), args)
