"""SLA clocks in business time: the tenant's workdays and hours in its time zone, holidays excluded.

Pure functions on naive UTC datetimes (as stored). A ticket's due times are its creation time
plus the target plus the business minutes it spent waiting on the client, so a priority change or
a pause simply recomputes the targets still open (a met one is settled: `tickets.refresh_due_times`).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

# A due time more than ten years of calendar away (one business minute a week, or a year's target
# on a short week) is none: nobody holds a desk to it, and the walk to it stops there.
MAX_DAYS = 3660


@dataclass(frozen=True)
class BusinessCalendar:
    time_zone: str = "UTC"
    start_minute: int = 8 * 60
    end_minute: int = 17 * 60
    workdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})  # ISO weekdays, Monday = 1
    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    def is_workday(self, day: dt.date) -> bool:
        return day.isoweekday() in self.workdays and day not in self.holidays

    @functools.lru_cache(maxsize=4096)  # noqa: B019  (calendars are few, equal ones share entries)
    def hours(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The day's business hours as naive UTC, None on a day off; aware arithmetic is wall-clock,
        so 08:00 stays 08:00 across DST. Every ticket of a week walks the same few days to its due
        times, and each day costs time-zone arithmetic: worked out once."""
        if not self.is_workday(day):
            return None
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(self.time_zone))
        opens = midnight + dt.timedelta(minutes=self.start_minute)
        closes = midnight + dt.timedelta(minutes=self.end_minute)
        return _utc(opens), _utc(closes)

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(self.time_zone)).date()


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def add_business_minutes(calendar: BusinessCalendar, start: dt.datetime, minutes: int) -> dt.datetime | None:
    """The moment `minutes` business minutes after `start`; None past the horizon (`MAX_DAYS`)."""
    if not calendar.workdays or calendar.end_minute <= calendar.start_minute:
        raise ValueError("the calendar has no business hours")
    day, left = calendar.local_date(start), dt.timedelta(minutes=minutes)
    for _ in range(MAX_DAYS):
        if hours := calendar.hours(day):
            opens, closes = hours
            begin = max(opens, start)
            if begin <= closes:
                if begin + left <= closes:
                    return begin + left
                left -= closes - begin
        day += dt.timedelta(days=1)
    return None


def business_minutes_between(
    calendar: BusinessCalendar, start: dt.datetime, end: dt.datetime, *, rounded_up: bool = False
) -> int:
    """Whole business minutes in [start, end), a part minute dropped (or counted, `rounded_up`);
    0 when end is not after start."""
    if end <= start:
        return 0
    total, day, last = dt.timedelta(), calendar.local_date(start), calendar.local_date(end)
    while day <= last:
        if hours := calendar.hours(day):
            opens, closes = hours
            overlap = min(closes, end) - max(opens, start)
            total += max(overlap, dt.timedelta())
        day += dt.timedelta(days=1)
    minutes, part = divmod(total, dt.timedelta(minutes=1))
    return minutes + (1 if rounded_up and part else 0)


def business_days_between(calendar: BusinessCalendar, start: dt.datetime, end: dt.datetime) -> int:
    """Business days that began after `start`'s local date, up to and including `end`'s."""
    count, day, last = 0, calendar.local_date(start) + dt.timedelta(days=1), calendar.local_date(end)
    while day <= last:
        count += calendar.is_workday(day)
        day += dt.timedelta(days=1)
    return count


@dataclass(frozen=True)
class Clock:
    """What a ticket's SLA needs: when it started, its targets, how long it was paused."""

    created_at: dt.datetime
    respond_minutes: int | None
    resolve_minutes: int | None
    paused_minutes: int = 0


def due_times(calendar: BusinessCalendar, clock: Clock) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(respond due, resolve due); None where the board sets no target for the priority, or the
    target ends past the horizon (`MAX_DAYS`): never breached, like no target."""

    def due(target):
        if target is None:
            return None
        return add_business_minutes(calendar, clock.created_at, target + clock.paused_minutes)

    return due(clock.respond_minutes), due(clock.resolve_minutes)


Stop = tuple[dt.datetime, dt.datetime | None]  # a wait or a closed spell: its start, and its end (None: still on)


def respond_due_as_first(
    calendar: BusinessCalendar, created_at: dt.datetime, target: int | None, stops: list[Stop], answered: dt.datetime
) -> dt.datetime | None:
    """The respond due time a response at `answered` settles had it been the first: the `target`
    plus the stops ended by then, and, once ended, a stop it was written in moves it by the part
    before the answer, a part minute counted (`tickets._resume`; while the stop lasts, `breaches`
    judges the answer at its start)."""
    if target is None:
        return None
    paused = sum(business_minutes_between(calendar, start, end) for start, end in stops if end and end <= answered)
    due = add_business_minutes(calendar, created_at, target + paused)
    during = next((start for start, end in stops if end and start < answered < end), None)
    if due is not None and during is not None:
        due = add_business_minutes(calendar, due, business_minutes_between(calendar, during, answered, rounded_up=True))
    return due


def stopped_at(now: dt.datetime, waiting_since: dt.datetime | None, closed_at: dt.datetime | None) -> dt.datetime:
    """Where the SLA clock stands: frozen while waiting on the client, stopped when closed."""
    return closed_at or waiting_since or now


def breached(due: dt.datetime | None, done_at: dt.datetime | None, clock_at: dt.datetime) -> bool:
    """A target is breached when it was met late, or is still unmet and its due time has passed."""
    if due is None:
        return False
    return (done_at or clock_at) > due


TICKET_COLUMNS = ("waiting_since", "closed_at", "responded_at", "respond_due_at", "resolve_due_at")  # `breaches` reads


def breaches(now: dt.datetime, *, waiting_since, closed_at, responded_at, respond_due_at, resolve_due_at) -> dict:
    """A ticket's respond and resolve targets: breached or not, with the clock where it stands. A
    response written while the ticket waits, or while it is closed, is judged where the clock
    stopped, the start of the wait or the closing (its due time does not include that stop yet)."""
    at = stopped_at(now, waiting_since, closed_at)
    stopped = closed_at or waiting_since
    answered = min(responded_at, stopped) if responded_at and stopped else responded_at
    return {"respond": breached(respond_due_at, answered, at), "resolve": breached(resolve_due_at, closed_at, at)}


def ticket_breaches(now: dt.datetime, ticket) -> dict:
    """`breaches` of a ticket row."""
    return breaches(now, **{name: getattr(ticket, name) for name in TICKET_COLUMNS})
