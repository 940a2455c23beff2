"""/api/v1/schedule: who works on which ticket or task, when and for how long."""

import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields, validate

from psa_shared.fields import UtcDateTime
from psa_shared.schemas import Schema
from psa_shared.web import Blueprint, ListArgs, page_schema, principal, time_ordered_page

from ..projects import schedule
from ..projects.models import LONGEST_BOOKING_MINUTES, ScheduleEntry

blp = Blueprint("schedule", __name__, url_prefix="/api/v1/schedule", description="Schedule entries")


ONE_TARGET = (
    "a booking is on exactly one of ticket_id and task_id, the other null or left out (422 naming "
    "ticket_id otherwise); in a PATCH, the one given replaces the other"
)


class ScheduleSchema(Schema):
    id = fields.UUID(dump_only=True)
    member_id = fields.UUID(required=True)
    starts_at = UtcDateTime(required=True)
    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=LONGEST_BOOKING_MINUTES))
    # the rule spans both fields, which JSON Schema keeps apart: the descriptions tell a client
    ticket_id = fields.UUID(allow_none=True, metadata={"description": ONE_TARGET})
    task_id = fields.UUID(allow_none=True, metadata={"description": ONE_TARGET})
    created_at = UtcDateTime(dump_only=True)


class ScheduleQuery(ListArgs):
    member_id = fields.UUID()
    from_ = UtcDateTime(data_key="from")
    to = UtcDateTime()

    @ma.validates_schema
    def _to_after_from(self, data, **kwargs):
        # a window ending before it starts holds nothing: an empty page read as "nobody booked"
        if {"from_", "to"} <= data.keys() and data["to"] < data["from_"]:
            raise ma.ValidationError("must not be before 'from'", "to")


@blp.route("")
class Schedule(MethodView):
    @blp.arguments(ScheduleQuery, location="query")
    @blp.response(200, page_schema(ScheduleSchema))
    def get(self, args):
        """Entries on tickets and tasks of the clients the caller sees, earliest start first (then id);
        `from` <= start < `to`."""
        principal().require("ticket:read")
        query = schedule.visible_entries(principal())
        if "member_id" in args:
            query = query.where(ScheduleEntry.member == args["member_id"])
        if "from_" in args:
            query = query.where(ScheduleEntry.starts_at >= args["from_"])
        if "to" in args:
            query = query.where(ScheduleEntry.starts_at < args["to"])
        return time_ordered_page(query, ScheduleEntry, ScheduleEntry.starts_at, args)

    @blp.arguments(ScheduleSchema)
    @blp.response(201, ScheduleSchema)
    def post(self, data):
        principal().require("ticket:write")
        return schedule.create_entry(principal(), **data)


@blp.route("/<uuid:entry_id>")
class ScheduleById(MethodView):
    @blp.response(200, ScheduleSchema)
    def get(self, entry_id):
        principal().require("ticket:read")
        return schedule.get_entry(principal(), entry_id)

    @blp.arguments(ScheduleSchema(partial=True), required=False)
    @blp.response(200, ScheduleSchema)
    def patch(self, data, entry_id):
        principal().require("ticket:write")
        return schedule.update_entry(principal(), entry_id, **data)

    @blp.response(204)
    def delete(self, entry_id):
        principal().require("ticket:write")
        schedule.delete_entry(principal(), entry_id)
