"""Availability for one ISO week: per active member, capacity, scheduled, logged and available.

The week runs Monday 00:00 to Monday 00:00 in the tenant's time zone; scheduled and logged
minutes count by start time within it. Available = capacity - scheduled, never below 0.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

from peewee import fn

from psa_shared.errors import field_error

from ..directory.models import Member, Tenant
from ..projects.models import ScheduleEntry
from ..servicedesk.models import TimeEntry

WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")  # fullmatch: no line break after it, ASCII digits only


def week_bounds(week: str, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """The ISO week `YYYY-Www` as naive-UTC [start, end) in the tenant's zone.

    A week that is not one (2025-W53), or whose bounds fall outside the calendar (9999-W52 ends
    in the year 10000), is refused naming `week`."""
    zone = ZoneInfo(time_zone)

    def utc(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC).replace(tzinfo=None)

    match = WEEK.fullmatch(week)
    if match is None:
        raise field_error("week", "expected an ISO week like 2026-W07")
    year, number = int(match[1]), int(match[2])
    # each refusal says what is wrong: a well-formed week told "expected an ISO week like
    # 2026-W07" read as a typo (until 2026-11-27)
    if year < dt.MINYEAR:
        raise field_error("week", "out of the supported range: years 0001 to 9999")
    try:
        monday = dt.date.fromisocalendar(year, number, 1)
    except ValueError:
        raise field_error("week", f"{year:04d} has no week {number:02d}") from None
    try:
        return utc(monday), utc(monday + dt.timedelta(days=7))
    except OverflowError:
        raise field_error(
            "week", f"out of the supported range: the week runs outside years 0001 to 9999 in {time_zone}"
        ) from None


def current_week(time_zone: str) -> str:
    year, week, _ = dt.datetime.now(ZoneInfo(time_zone)).isocalendar()
    return f"{year}-W{week:02d}"


def _minutes_by_member(model, start_field, start, end) -> dict:
    rows = (
        model.select(model.member, fn.SUM(model.minutes))
        .where((start_field >= start) & (start_field < end))
        .group_by(model.member)
        .tuples()
    )
    return {str(member): int(total or 0) for member, total in rows}


def hours(minutes: int) -> str:
    return str((Decimal(minutes) / 60).quantize(Decimal("0.01")))


def availability(tenant_id, week: str | None) -> dict:
    time_zone = Tenant.get_by_id(tenant_id).time_zone
    if week is None:  # given empty, it is a week nobody wrote: refused by `week_bounds` (200 until 2026-11-27)
        week = current_week(time_zone)
    start, end = week_bounds(week, time_zone)
    scheduled = _minutes_by_member(ScheduleEntry, ScheduleEntry.starts_at, start, end)
    logged = _minutes_by_member(TimeEntry, TimeEntry.started_at, start, end)
    members = []
    for member in Member.select().where(Member.active).order_by(Member.name, Member.id):
        key, capacity = str(member.id), member.weekly_capacity_minutes
        minutes = {
            "capacity": capacity,
            "scheduled": scheduled.get(key, 0),
            "logged": logged.get(key, 0),
            "available": max(capacity - scheduled.get(key, 0), 0),
        }
        row = {"member_id": member.id, "name": member.name}
        for name, value in minutes.items():
            row[f"{name}_minutes"] = value
            row[f"{name}_hours"] = hours(value)
        members.append(row)
    return {"week": week, "time_zone": time_zone, "starts_at": start, "ends_at": end, "members": members}
