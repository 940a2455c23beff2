"""SLA edges an MSP runs into: responses around waiting periods, re-prioritised and closed tickets,
and business days that are 23 or 25 hours long."""

import datetime as dt
import uuid

import pytest

from psa_tickets.servicedesk import clock, sla

MONDAY_9 = dt.datetime(2026, 3, 2, 9, 0)  # UTC tenant, 08:00-17:00 Monday to Friday


def at(hours: float = 0, days: int = 0) -> dt.datetime:
    return MONDAY_9 + dt.timedelta(days=days, hours=hours)


def fast_p1(tenant, respond=30, resolve=120) -> None:
    """The default board, with a tighter P1 (the other priorities keep the seeded targets)."""
    board = tenant.api.get("/api/v1/boards").json["items"][0]
    targets = [{**t, "respond_minutes": respond, "resolve_minutes": resolve} if t["priority"] == "P1" else t
               for t in board["sla_targets"]]  # fmt: skip
    assert tenant.api.patch(f"/api/v1/boards/{board['id']}", json={"sla_targets": targets}).status_code == 200


def open_ticket(tenant, priority: str) -> str:
    with clock.travel(MONDAY_9):
        made = tenant.api.post(
            "/api/v1/tickets",
            json={"client_id": tenant.client()["id"], "summary": "Outlook crashes", "priority": priority},
        )
    assert made.status_code == 201, made.json
    return f"/api/v1/tickets/{made.json['id']}"


def tell_client(tenant, path: str, moment: dt.datetime, text: str = "Looking into it") -> None:
    with clock.travel(moment):
        assert tenant.api.post(f"{path}/notes", json={"text": text, "internal": False}).status_code == 201


def set_status(tenant, path: str, moment: dt.datetime, **changes) -> dict:
    with clock.travel(moment):
        changed = tenant.api.patch(path, json=changes)
    assert changed.status_code == 200, changed.json
    return changed.json


def read(tenant, path: str, moment: dt.datetime) -> dict:
    with clock.travel(moment):
        return tenant.api.get(path).json


def test_a_late_response_stays_late_after_the_ticket_waits_on_the_client(tenant):
    fast_p1(tenant)  # respond within 30 business minutes: due 09:30
    path = open_ticket(tenant, "P1")
    tell_client(tenant, path, at(0.75))  # 09:45: a quarter of an hour late
    set_status(tenant, path, at(1), status="Waiting on Client")
    resumed = set_status(tenant, path, at(4), status="In Progress")  # the client answers at 13:00

    assert resumed["resolve_due_at"] == "2026-03-02T14:00:00Z"  # the wait pushes the open target
    assert resumed["respond_due_at"] == "2026-03-02T09:30:00Z"  # but not the one already met
    assert resumed["respond_breached"] is True and resumed["breached"] is True


def test_a_response_written_while_waiting_is_judged_by_the_frozen_clock(tenant):
    fast_p1(tenant)
    path = open_ticket(tenant, "P1")
    set_status(tenant, path, at(1 / 6), status="Waiting on Client")  # 09:10: ten minutes on the clock
    tell_client(tenant, path, at(2), "Sent you the steps by email")  # 11:00, still waiting

    waiting = read(tenant, path, at(2.5))
    assert waiting["respond_breached"] is False  # the clock stood at 10 minutes when it was answered
    resumed = set_status(tenant, path, at(3), status="In Progress")
    assert resumed["respond_due_at"] == "2026-03-02T11:20:00Z"  # 09:30 + the 110 minutes waited before the answer
    assert resumed["respond_breached"] is False


def test_a_reply_seconds_into_a_wait_that_began_seconds_before_the_due_time_is_on_time(tenant):
    """Ten seconds on a frozen clock, the reply 80 seconds into the wait: on time, after the wait
    too (the 80 seconds were counted as one whole minute, and the due time moved past the reply
    by less than it)."""
    fast_p1(tenant)  # due 09:30
    path = open_ticket(tenant, "P1")
    set_status(tenant, path, at(0.5) - dt.timedelta(seconds=10), status="Waiting on Client")
    tell_client(tenant, path, at(0.5) + dt.timedelta(seconds=70), "Sent you the steps by email")
    assert read(tenant, path, at(0.75))["respond_breached"] is False
    resumed = set_status(tenant, path, at(1), status="In Progress")
    assert resumed["respond_breached"] is False


def test_a_response_already_late_when_the_ticket_went_waiting_stays_late(tenant):
    fast_p1(tenant)
    path = open_ticket(tenant, "P1")
    set_status(tenant, path, at(2 / 3), status="Waiting on Client")  # 09:40: ten minutes past due
    tell_client(tenant, path, at(2))  # 11:00, while waiting
    assert read(tenant, path, at(2.5))["respond_breached"] is True

    resumed = set_status(tenant, path, at(3), status="In Progress")
    assert resumed["respond_due_at"] == "2026-03-02T10:50:00Z"  # 09:30 + the 80 minutes waited before the answer
    assert resumed["respond_breached"] is True


def test_escalating_after_an_on_time_response_does_not_make_it_late(tenant):
    path = open_ticket(tenant, "P3")  # default board: respond within 240 minutes, due 13:00
    tell_client(tenant, path, at(2))  # 11:00, on time for a P3
    escalated = set_status(tenant, path, at(1, days=1), priority="P1")  # Tuesday: it is now urgent

    assert escalated["respond_due_at"] == "2026-03-02T13:00:00Z"
    assert escalated["respond_breached"] is False
    assert escalated["resolve_due_at"] == "2026-03-02T13:00:00Z"  # P1 resolve 240: the open target follows


def test_dropping_priority_after_a_late_response_does_not_forgive_it(tenant):
    """The mailbox story: after a call the priority drops to P4."""
    fast_p1(tenant)
    path = open_ticket(tenant, "P1")
    tell_client(tenant, path, at(1))  # 10:00, half an hour late
    dropped = set_status(tenant, path, at(1.5), priority="P4")
    assert dropped["respond_due_at"] == "2026-03-02T09:30:00Z"
    assert dropped["respond_breached"] is True


def test_reclassifying_a_ticket_closed_late_does_not_forgive_the_late_resolution(tenant):
    fast_p1(tenant)  # resolve within 120: due 11:00
    path = open_ticket(tenant, "P1")
    tell_client(tenant, path, at(0.25))
    closed = set_status(tenant, path, at(6), status="Closed")  # 15:00, four hours late
    assert closed["resolve_breached"] is True

    reviewed = set_status(tenant, path, at(0, days=3), priority="P4")  # the quarterly review lowers it
    assert reviewed["resolve_due_at"] == "2026-03-02T11:00:00Z"
    assert reviewed["resolve_breached"] is True and reviewed["breached"] is True


def test_closing_straight_from_waiting_counts_the_wait(tenant):
    path = open_ticket(tenant, "P3")  # resolve within 1440 business minutes: Wednesday 15:00
    set_status(tenant, path, at(1), status="Waiting on Client")
    closed = set_status(tenant, path, at(0, days=7), status="Closed")  # the client never came back
    assert closed["resolve_due_at"] == "2026-03-11T14:00:00Z"  # pushed by the 44 business hours waited
    assert closed["resolve_breached"] is False


def test_reopening_a_closed_ticket_computes_its_resolve_target_again(tenant):
    path = open_ticket(tenant, "P3")
    set_status(tenant, path, at(1), status="Closed")
    reopened = set_status(tenant, path, at(2), status="In Progress", priority="P1")
    # P1: 240 minutes from creation, plus the hour it stood closed
    assert reopened["resolve_due_at"] == "2026-03-02T14:00:00Z"


def test_a_ticket_reopened_a_week_after_closing_is_not_breached_at_once(tenant):
    """Resolved Monday 10:00, one hour into a P3's 1,440 business minutes. On the next Monday the
    client writes that the printer jams again, and the dispatcher reopens it: the week it stood
    closed was nobody's to work on, so 1,380 minutes are left, not a breach (until 2026-11-27
    the closed week counted, and the ticket read breached the moment it was reopened)."""
    path = open_ticket(tenant, "P3")
    closed = set_status(tenant, path, at(1), status="Closed")
    assert closed["resolve_breached"] is False
    reopened = set_status(tenant, path, at(1, days=7), status="In Progress")
    assert reopened["resolve_breached"] is False and reopened["breached"] is False
    assert reopened["resolve_due_at"] == "2026-03-11T15:00:00Z"  # from Monday 10:00, 1,380 minutes on
    assert read(tenant, path, at(1, days=7))["resolve_breached"] is False


BERLIN_AROUND_THE_CLOCK = sla.BusinessCalendar(
    time_zone="Europe/Berlin", start_minute=0, end_minute=24 * 60, workdays=frozenset(range(1, 8))
)
NEW_YORK = sla.BusinessCalendar(time_zone="America/New_York")  # 08:00-17:00, Monday to Friday


def test_a_desk_open_around_the_clock_counts_the_real_length_of_dst_days():
    saturday_midnight = dt.datetime(2026, 3, 28, 23, 0)  # Sunday 29 March 00:00 CET; clocks go forward at 02:00
    monday_midnight = dt.datetime(2026, 3, 29, 22, 0)  # Monday 00:00 CEST
    assert sla.business_minutes_between(BERLIN_AROUND_THE_CLOCK, saturday_midnight, monday_midnight) == 23 * 60
    assert sla.add_business_minutes(BERLIN_AROUND_THE_CLOCK, saturday_midnight, 24 * 60) == dt.datetime(
        2026, 3, 29, 23, 0
    )
    october = dt.datetime(2026, 10, 24, 22, 0)  # Sunday 25 October 00:00 CEST; clocks go back at 03:00
    assert sla.business_minutes_between(BERLIN_AROUND_THE_CLOCK, october, dt.datetime(2026, 10, 25, 23, 0)) == 25 * 60


def test_new_york_opens_at_08_local_on_both_sides_of_fall_back():
    friday_4pm = dt.datetime(2026, 10, 30, 20, 0)  # 16:00 EDT; clocks go back on Sunday 1 November
    assert sla.add_business_minutes(NEW_YORK, friday_4pm, 120) == dt.datetime(2026, 11, 2, 14, 0)  # Mon 09:00 EST
    assert sla.business_minutes_between(NEW_YORK, friday_4pm, dt.datetime(2026, 11, 2, 14, 0)) == 120


# --- due times past the horizon --------------------------------------------------------------


def hours(tenant, start: str, end: str, workdays: list) -> None:
    calendar = {"time_zone": "UTC", "workday_start": start, "workday_end": end, "workdays": workdays, "holidays": []}
    assert tenant.api.put("/api/v1/settings/business-hours", json=calendar).status_code == 200


def test_a_target_past_ten_years_of_business_minutes_has_no_due_time_and_never_breaches(tenant):
    """One business minute a week (Sunday 23:59): P3's 24-hour resolution lies 27 years away. Until
    2026-11-27 opening the ticket, changing its priority or ending its wait answered 500."""
    hours(tenant, "23:59", "24:00", [7])
    path = open_ticket(tenant, "P3")
    opened = read(tenant, path, at(1))
    assert opened["respond_due_at"] == "2030-10-07T00:00:00Z"  # the 240th Sunday minute ends at midnight
    assert opened["resolve_due_at"] is None and opened["breached"] is False

    lowered = set_status(tenant, path, at(2), priority="P5")
    assert (lowered["respond_due_at"], lowered["resolve_due_at"]) == (None, None)
    set_status(tenant, path, at(3), status="Waiting on Client")
    resumed = set_status(tenant, path, at(4), status="In Progress")
    assert (resumed["respond_due_at"], resumed["resolve_due_at"], resumed["breached"]) == (None, None, False)
    raised = set_status(tenant, path, at(5), priority="P1")
    assert raised["respond_due_at"] == "2027-04-26T00:00:00Z" and raised["resolve_due_at"] is not None


def test_a_years_target_on_an_hour_a_day_leaves_tickets_opened_by_events_without_a_due_time(tenant, psa):
    from .test_rotation_tickets import rotation_required, tickets_of

    hours(tenant, "09:00", "10:00", [1, 2, 3, 4, 5])  # 300 business minutes a week
    board = tenant.api.get("/api/v1/boards").json["items"][0]
    year = {"priority": "P2", "respond_minutes": 525_600, "resolve_minutes": 525_600}  # the most allowed
    targets = [year if t["priority"] == "P2" else t for t in board["sla_targets"]]
    assert tenant.api.patch(f"/api/v1/boards/{board['id']}", json={"sla_targets": targets}).status_code == 200
    client = tenant.client()

    rotation_required(psa, tenant, tenant.admin_id, "Tom Tech", {client["id"]: [str(uuid.uuid4())]})

    [rotation] = tickets_of(tenant, client["id"])  # the vault's rotation ticket is a P2
    assert (rotation["priority"], rotation["respond_due_at"], rotation["resolve_due_at"]) == ("P2", None, None)
    assert open_ticket(tenant, "P2")  # and the API's


# --- a response withdrawn: the next one is judged as if it had been the first ------------------


def answer_by_entry(tenant, path: str, moment: dt.datetime) -> str:
    """The tech logs five minutes with a note to the client; returns the entry's path."""
    with clock.travel(moment):
        made = tenant.api.post(f"{path}/time-entries", json={"minutes": 5, "notes": "Looked at it"})
    assert made.status_code == 201, made.json
    return f"{path}/time-entries/{made.json['id']}"


def delete(tenant, entry: str, moment: dt.datetime) -> None:
    with clock.travel(moment):
        assert tenant.api.delete(entry).status_code == 204


@pytest.mark.parametrize("withdrawn", ["deleted", "blanked"])
def test_an_answer_after_a_wait_that_takes_over_from_a_deleted_one_counts_the_wait(tenant, withdrawn):
    """09:05 an entry answers (due 09:30), the ticket waits on the client 09:10-11:00, 11:05 a note
    tells her the fix, 11:10 the 09:05 entry is deleted (logged on the wrong ticket), or its notes
    blanked. The 11:05 note is the response, and the wait paused its clock: due 11:20, on time.
    Until 2026-11-28 it was held to the 09:30 settled at the withdrawn answer, and read breached."""
    fast_p1(tenant)
    path = open_ticket(tenant, "P1")
    first = answer_by_entry(tenant, path, at(5 / 60))
    set_status(tenant, path, at(10 / 60), status="Waiting on Client")
    set_status(tenant, path, at(2), status="In Progress")
    tell_client(tenant, path, at(2 + 5 / 60), "Fixed: the mailbox rule was forwarding it")
    if withdrawn == "deleted":
        delete(tenant, first, at(2 + 10 / 60))
    else:
        with clock.travel(at(2 + 10 / 60)):
            assert tenant.api.patch(first, json={"notes": " "}).status_code == 200

    ticket = read(tenant, path, at(3))
    assert ticket["responded_at"] == "2026-03-02T11:05:00Z"
    assert ticket["respond_due_at"] == "2026-03-02T11:20:00Z"  # 09:30 + the 110 minutes waited
    assert ticket["respond_breached"] is False


@pytest.mark.parametrize("deleted", [2.5, 1.5], ids=["after the wait", "during the wait"])
def test_an_answer_written_during_a_wait_that_takes_over_from_a_deleted_one_is_judged_where_the_clock_froze(
    tenant, deleted
):
    """The note that takes over was written at 10:00, while the ticket waited (09:10-11:00): the
    clock stood at 09:10 with 20 minutes left, so it is on time, whether the 09:05 entry is deleted
    after the wait or during it. Until 2026-11-28, deleted after the wait, it read breached."""
    fast_p1(tenant)
    path = open_ticket(tenant, "P1")
    first = answer_by_entry(tenant, path, at(5 / 60))
    set_status(tenant, path, at(10 / 60), status="Waiting on Client")
    tell_client(tenant, path, at(1), "Sent you the steps by email")
    if deleted < 2:
        delete(tenant, first, at(deleted))
    assert read(tenant, path, at(1.75))["respond_breached"] is False  # judged at 09:10 while waiting
    set_status(tenant, path, at(2), status="In Progress")
    if deleted > 2:
        delete(tenant, first, at(deleted))

    ticket = read(tenant, path, at(3))
    assert ticket["responded_at"] == "2026-03-02T10:00:00Z"
    assert ticket["respond_due_at"] == "2026-03-02T10:20:00Z"  # 09:30 + the 50 minutes waited before it
    assert ticket["respond_breached"] is False


def test_an_answer_that_takes_over_keeps_the_target_of_the_priority_it_was_given_under(tenant):
    """A P3 (respond within 240 minutes: 13:00) answered at 09:05 and again at 11:00, escalated to
    P1 at 12:00, and the 09:05 entry deleted: the 11:00 note was on time for the P3 it then was
    (an escalation after an on-time response does not make it late)."""
    path = open_ticket(tenant, "P3")
    first = answer_by_entry(tenant, path, at(5 / 60))
    tell_client(tenant, path, at(2))
    set_status(tenant, path, at(3), priority="P1")
    delete(tenant, first, at(3.5))

    ticket = read(tenant, path, at(4))
    assert (ticket["responded_at"], ticket["respond_due_at"]) == ("2026-03-02T11:00:00Z", "2026-03-02T13:00:00Z")
    assert ticket["respond_breached"] is False


def test_an_answer_that_takes_over_on_a_ticket_reopened_counts_the_closed_spell(tenant):
    """Closed by mistake at 09:10 with an entry's answer, reopened at 10:10, answered by a note at
    10:30, the entry deleted: the hour closed paused the clock, due 10:30, on time."""
    fast_p1(tenant)
    path = open_ticket(tenant, "P1")
    first = answer_by_entry(tenant, path, at(5 / 60))
    set_status(tenant, path, at(10 / 60), status="Closed")
    set_status(tenant, path, at(70 / 60), status="In Progress")
    tell_client(tenant, path, at(1.5))
    delete(tenant, first, at(2))

    ticket = read(tenant, path, at(3))
    assert (ticket["respond_due_at"], ticket["respond_breached"]) == ("2026-03-02T10:30:00Z", False)


def test_an_answer_that_takes_over_keeps_the_target_of_the_board_it_was_given_on(tenant):
    """Answered on the Service Desk (P1: 60 minutes, due 10:00) at 09:05 and 09:45, moved at 10:30
    to a Projects board that promises 10 minutes, the 09:05 entry deleted: the 09:45 note was on
    time where it was written."""
    projects = {"name": "Projects", "sla_targets": [{"priority": "P1", "respond_minutes": 10, "resolve_minutes": 60}]}
    board = tenant.api.post("/api/v1/boards", json=projects).json
    path = open_ticket(tenant, "P1")
    first = answer_by_entry(tenant, path, at(5 / 60))
    tell_client(tenant, path, at(0.75))
    set_status(tenant, path, at(1.5), board_id=board["id"])
    delete(tenant, first, at(2))

    ticket = read(tenant, path, at(3))
    assert (ticket["responded_at"], ticket["respond_due_at"]) == ("2026-03-02T09:45:00Z", "2026-03-02T10:00:00Z")
    assert ticket["respond_breached"] is False
