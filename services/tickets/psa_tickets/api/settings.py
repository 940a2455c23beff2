"""/api/v1/settings/business-hours: the tenant's time zone, working hours, workdays and holidays.

SLA clocks and auto-close day counts run on these; a change applies to due times computed after
it (new tickets, priority or waiting changes), like a change of a board's targets.
"""

import functools
import re
import zoneinfo

import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields, validate

from psa_shared.schemas import Schema
from psa_shared.web import Blueprint, principal

from ..servicedesk import boards

blp = Blueprint("settings", __name__, url_prefix="/api/v1/settings", description="Tenant settings")


@functools.cache
def _zones() -> frozenset[str]:
    # "localtime" is the server's own zone, not a place: a tenant's clock must not move with the host.
    return frozenset(zoneinfo.available_timezones() - {"localtime"})


def check_zone(name: str) -> None:
    if name not in _zones():
        raise ma.ValidationError("not an IANA time zone name, e.g. Europe/Amsterdam")


class ClockTime(fields.String):
    """ "HH:MM" on the wire, minutes after local midnight inside; "24:00" is the end of the day.
    A String so that the OpenAPI document types it: apispec types a field by its class, and gave
    this one `{}`, any value, until 2026-11-28."""

    default_error_messages = {"invalid": "expected HH:MM between 00:00 and 24:00"}
    PATTERN = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"  # what `_deserialize` takes, as JSON Schema says it

    def __init__(self, **kwargs):
        super().__init__(metadata={"pattern": self.PATTERN, "example": "08:30"}, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"{value // 60:02d}:{value % 60:02d}"

    def _deserialize(self, value, attr, data, **kwargs):
        match = re.fullmatch(r"(\d{2}):(\d{2})", value) if isinstance(value, str) else None
        if not match or int(match[2]) > 59 or int(match[1]) * 60 + int(match[2]) > 24 * 60:
            raise self.make_error("invalid")
        return int(match[1]) * 60 + int(match[2])


class BusinessHoursSchema(Schema):
    time_zone = fields.String(required=True, validate=[validate.Length(max=64), check_zone])
    workday_start = ClockTime(required=True)
    workday_end = ClockTime(required=True)
    workdays = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=7)),
        required=True,
        validate=validate.Length(min=1, max=7),
    )
    holidays = fields.List(fields.Date(), required=True, validate=validate.Length(max=2000))

    @ma.validates("workdays")
    def _unique_workdays(self, value, **kwargs):
        if len(set(value)) != len(value):
            raise ma.ValidationError("each ISO weekday at most once")

    @ma.validates_schema
    def _opens_before_closing(self, data, **kwargs):
        if {"workday_start", "workday_end"} <= data.keys() and data["workday_start"] >= data["workday_end"]:
            raise ma.ValidationError("must be after workday_start", "workday_end")


def business_hours() -> dict:
    """The tenant's calendar as the API shows it."""
    calendar = boards.calendar()
    return {
        "time_zone": calendar.time_zone,
        "workday_start": calendar.start_minute,
        "workday_end": calendar.end_minute,
        "workdays": sorted(calendar.workdays),
        "holidays": sorted(calendar.holidays),
    }


@blp.route("/business-hours")
class BusinessHours(MethodView):
    @blp.response(200, BusinessHoursSchema)
    def get(self):
        """The hours SLA clocks count in: time zone, workday start and end, ISO weekdays, holidays."""
        principal().require("ticket:read")
        return business_hours()

    @blp.arguments(BusinessHoursSchema)
    @blp.response(200, BusinessHoursSchema)
    def put(self, data):
        """Replace the business hours (every field required); admins only (settings:write)."""
        principal().require("settings:write")
        boards.set_calendar(**data)
        return business_hours()
