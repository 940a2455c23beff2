"""SLA clocks count only business time: the tenant's hours, workdays and holidays, in its time zone."""

import datetime as dt

import pytest

from psa_tickets.servicedesk import sla

CHICAGO = sla.BusinessCalendar(time_zone="America/Chicago")  # 08:00-17:00, Monday to Friday


def utc(*args):
    return dt.datetime(*args)


def test_ticket_opened_friday_afternoon_is_due_monday_morning():
    friday_4pm = utc(2026, 3, 6, 22, 0)  # 16:00 CST
    due = sla.add_business_minutes(CHICAGO, friday_4pm, 120)
    assert due == utc(2026, 3, 9, 14, 0)  # Monday 09:00 CDT (clocks moved on Sunday 8 March)


def test_ticket_opened_at_night_starts_counting_at_opening_time():
    tuesday_2am = utc(2026, 3, 3, 8, 0)  # 02:00 CST
    assert sla.add_business_minutes(CHICAGO, tuesday_2am, 60) == utc(2026, 3, 3, 15, 0)  # 09:00 CST


def test_holidays_do_not_count():
    calendar = sla.BusinessCalendar(time_zone="UTC", holidays=frozenset({dt.date(2026, 12, 25)}))
    thursday_4pm = utc(2026, 12, 24, 16, 0)
    assert sla.add_business_minutes(calendar, thursday_4pm, 120) == utc(2026, 12, 28, 9, 0)


def test_zero_target_is_due_at_once_inside_hours():
    assert sla.add_business_minutes(CHICAGO, utc(2026, 3, 3, 16, 30), 0) == utc(2026, 3, 3, 16, 30)


def test_business_minutes_between_skips_nights_and_weekends():
    friday_4pm, monday_9am = utc(2026, 3, 6, 22, 0), utc(2026, 3, 9, 14, 0)
    assert sla.business_minutes_between(CHICAGO, friday_4pm, monday_9am) == 120
    assert sla.business_minutes_between(CHICAGO, monday_9am, friday_4pm) == 0


def test_minutes_added_then_counted_round_trip():
    start = utc(2026, 4, 1, 13, 17)
    for minutes in (1, 59, 540, 541, 5000):
        due = sla.add_business_minutes(CHICAGO, start, minutes)
        assert sla.business_minutes_between(CHICAGO, start, due) == minutes


def test_business_days_count_workdays_after_the_start_date():
    friday = utc(2026, 3, 6, 15, 0)
    assert sla.business_days_between(CHICAGO, friday, utc(2026, 3, 8, 15, 0)) == 0  # weekend
    assert sla.business_days_between(CHICAGO, friday, utc(2026, 3, 9, 15, 0)) == 1
    assert sla.business_days_between(CHICAGO, friday, utc(2026, 3, 13, 15, 0)) == 5


def test_waiting_on_client_pauses_the_clock_and_pushes_due_times():
    opened = utc(2026, 3, 3, 15, 0)
    plain = sla.due_times(CHICAGO, sla.Clock(opened, 60, 240))
    paused = sla.due_times(CHICAGO, sla.Clock(opened, 60, 240, paused_minutes=30))
    assert plain == (utc(2026, 3, 3, 16, 0), utc(2026, 3, 3, 19, 0))
    assert paused[1] - plain[1] == dt.timedelta(minutes=30)
    waiting_since = utc(2026, 3, 3, 18, 0)
    clock_at = sla.stopped_at(utc(2026, 3, 9, 15, 0), waiting_since, None)
    assert not sla.breached(plain[1], None, clock_at)  # frozen before the due time while waiting


def test_breach_when_met_late_or_still_unmet_after_due():
    due = utc(2026, 3, 3, 16, 0)
    assert sla.breached(due, utc(2026, 3, 3, 16, 1), utc(2026, 3, 3, 17, 0))
    assert not sla.breached(due, utc(2026, 3, 3, 15, 59), utc(2026, 3, 9, 0, 0))
    assert sla.breached(due, None, utc(2026, 3, 3, 16, 1))
    assert not sla.breached(None, None, utc(2030, 1, 1))


def test_calendar_without_hours_is_refused():
    with pytest.raises(ValueError):
        sla.add_business_minutes(sla.BusinessCalendar(workdays=frozenset()), utc(2026, 1, 1), 10)


def test_a_due_time_past_ten_years_of_calendar_is_none_not_an_error():
    one_minute_a_week = sla.BusinessCalendar(start_minute=23 * 60 + 59, end_minute=24 * 60, workdays=frozenset({7}))
    monday = utc(2026, 3, 2, 9, 0)
    assert sla.add_business_minutes(one_minute_a_week, monday, 60) == utc(2027, 4, 26, 0, 0)  # 60 Sundays on
    assert sla.add_business_minutes(one_minute_a_week, monday, 1440) is None  # 27 years of Sundays
    clock = sla.Clock(created_at=monday, respond_minutes=60, resolve_minutes=1440)
    respond, resolve = sla.due_times(one_minute_a_week, clock)
    assert respond == utc(2027, 4, 26, 0, 0) and resolve is None
    assert not sla.breached(resolve, None, utc(2099, 1, 1))
