"""/api/v1/reports/backlog and /api/v1/reports/availability: is the team keeping up?"""

import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields

from psa_shared.fields import UtcDateTime
from psa_shared.schemas import Schema
from psa_shared.web import Blueprint, principal

from ..reports.availability import availability
from ..reports.backlog import backlog

backlog_blp = Blueprint("backlog", __name__, url_prefix="/api/v1/reports/backlog", description="Backlog report")
availability_blp = Blueprint(
    "availability", __name__, url_prefix="/api/v1/reports/availability", description="Availability report"
)


class MemberBacklogSchema(Schema):
    member_id = fields.UUID(allow_none=True)
    name = fields.String(allow_none=True)
    pipe_minutes = fields.Integer()
    capacity_minutes_per_week = fields.Integer()
    backlog_weeks = fields.String(allow_none=True)


class BoardBacklogSchema(Schema):
    board_id = fields.UUID(allow_none=True)
    name = fields.String(allow_none=True)
    pipe_minutes = fields.Integer()


class BacklogSchema(Schema):
    pipe_minutes = fields.Integer()
    capacity_minutes_per_week = fields.Integer()
    backlog_weeks = fields.String(allow_none=True)
    by_member = fields.List(fields.Nested(MemberBacklogSchema))
    by_board = fields.List(fields.Nested(BoardBacklogSchema))


class MemberAvailabilitySchema(Schema):
    member_id = fields.UUID()
    name = fields.String()
    capacity_minutes = fields.Integer()
    scheduled_minutes = fields.Integer()
    logged_minutes = fields.Integer()
    available_minutes = fields.Integer()
    capacity_hours = fields.String()
    scheduled_hours = fields.String()
    logged_hours = fields.String()
    available_hours = fields.String()


class AvailabilitySchema(Schema):
    week = fields.String()
    time_zone = fields.String()
    starts_at = UtcDateTime()
    ends_at = UtcDateTime()
    members = fields.List(fields.Nested(MemberAvailabilitySchema))


class AvailabilityQuery(ma.Schema):
    week = fields.String()


@backlog_blp.route("")
class Backlog(MethodView):
    @backlog_blp.response(200, BacklogSchema)
    def get(self):
        """Hours in the pipe (unspent estimates of open tickets and tasks) against weekly capacity."""
        principal().require("report:read")
        return backlog(principal())


@availability_blp.route("")
class Availability(MethodView):
    @availability_blp.arguments(AvailabilityQuery, location="query")
    @availability_blp.response(200, AvailabilitySchema)
    def get(self, args):
        """Per active member: capacity, scheduled, logged and available time in the ISO week (default: this one)."""
        principal().require("report:read")
        return availability(principal().tenant_id, args.get("week"))
