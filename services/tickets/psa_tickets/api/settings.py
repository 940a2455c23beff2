"""/api/v1/settings/business-hours: the tenant's time zone, working hours, workdays and holidays.

SLA clocks and auto-close day counts run on these; a change applies to due times computed after
it (new tickets, priority or waiting changes), like a change of a board's targets.
"""

import datetime as dt
import functools
import re
import zoneinfo

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from psa_shared.tenancy import current_tenant
from psa_shared.web import principal

from ..database import db
from ..directory.models import Tenant, TenantSettings, directory_changed

blp = Blueprint("settings", __name__, url_prefix="/api/v1/settings", description="Tenant settings")


@functools.cache
def _zones() -> frozenset[str]:
    # "localtime" is the server's own zone, not a place: a tenant's clock must not move with the host.
    return frozenset(zoneinfo.available_timezones() - {"localtime"})


def _check_zone(name: str) -> None:
    if name not in _zones():
        raise ma.ValidationError("not an IANA time zone name, e.g. Europe/Amsterdam")


class ClockTime(fields.Field):
    """ "HH:MM" on the wire, minutes after local midnight inside; "24:00" is the end of the day."""

    default_error_messages = {"invalid": "expected HH:MM between 00:00 and 24:00"}

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"{value // 60:02d}:{value % 60:02d}"

    def _deserialize(self, value, attr, data, **kwargs):
        match = re.fullmatch(r"(\d{2}):(\d{2})", value) if isinstance(value, str) else None
        if not match or int(match[2]) > 59 or int(match[1]) * 60 + int(match[2]) > 24 * 60:
            raise self.make_error("invalid")
        return int(match[1]) * 60 + int(match[2])


class BusinessHoursSchema(ma.Schema):
    time_zone = fields.String(required=True, validate=[validate.Length(max=64), _check_zone])
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
    """The tenant's calendar as the API shows it (the defaults when no settings row exists yet)."""
    row = TenantSettings.get_or_none() or TenantSettings()
    return {
        "time_zone": Tenant.get_by_id(current_tenant()).time_zone,
        "workday_start": row.workday_start_minute,
        "workday_end": row.workday_end_minute,
        "workdays": sorted(int(d) for d in row.workdays),
        "holidays": sorted(dt.date.fromisoformat(d) for d in row.holidays.split(",") if d.strip()),
    }


def set_business_hours(time_zone: str, workday_start: int, workday_end: int, workdays: list, holidays: list) -> dict:
    """Replace the tenant's calendar; every process drops its cached copy at the next request."""
    values = {
        "workday_start_minute": workday_start,
        "workday_end_minute": workday_end,
        "workdays": "".join(str(d) for d in sorted(workdays)),
        "holidays": ",".join(d.isoformat() for d in sorted(set(holidays))),
    }
    with db.proxy.atomic():
        Tenant.update(time_zone=time_zone).where(Tenant.id == current_tenant()).execute()
        if not TenantSettings.update(**values).execute():
            TenantSettings.create(**values)
        directory_changed()
    return business_hours()


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
        return set_business_hours(**data)
