"""Two clocks a tech can outrun. Calls may be logged up to a day ahead (the afternoon's round of
calls written up in the morning): they count towards auto-close once their time has come, not
before. And a reply written while a ticket is closed is judged where the SLA clock stopped, at the
closing, as a reply written during a wait is judged at the wait's start."""

from .test_autoclose_edges import HOUR, MONDAY, call, policy, status, sweep, waiting_ticket
from .test_sla_edges import at, fast_p1, open_ticket, read, set_status, tell_client


def test_calls_logged_for_this_afternoon_do_not_close_the_ticket_this_morning(tenant):
    """Policy: 3 unanswered calls. At 09:00 the tech logs the three calls she plans at 14:00, 15:00
    and 16:00. The ticket stays open (the client would have read "we tried to reach you 3 times"
    before anyone called); the sweep after 16:00 closes it, with the calls before the closing."""
    policy(tenant, autoclose_attempts=3)
    path = waiting_ticket(tenant)
    for hour in (5, 6, 7):
        call(tenant, path, MONDAY + HOUR, started_at=MONDAY + hour * HOUR)
    assert status(tenant, path) == "Waiting on Client"
    sweep(MONDAY + 6 * HOUR)  # two of the three calls are behind her
    assert status(tenant, path) == "Waiting on Client"
    sweep(MONDAY + 7 * HOUR)
    assert status(tenant, path) == "Closed"
    kinds = [item["kind"] for item in tenant.api.get(f"{path}/timeline").json["items"]]
    assert kinds.index("status", kinds.index("time_entry")) > max(i for i, k in enumerate(kinds) if k == "time_entry")


def test_a_reply_logged_ahead_does_not_hold_off_the_business_day_count_before_it_happens(tenant):
    """Policy: 1 business day of silence, waiting since Monday 09:00 (Chicago). A `reached` call
    logged on Monday for Tuesday 05:00 is not an answer yet at Tuesday 01:00, when the sweep finds
    Tuesday begun without one."""
    policy(tenant, autoclose_business_days=1)
    path = waiting_ticket(tenant)
    call(tenant, path, MONDAY + HOUR, outcome="reached", started_at=MONDAY + 20 * HOUR)
    sweep(MONDAY + 16 * HOUR)
    assert status(tenant, path) == "Closed"


def test_a_reply_written_while_the_ticket_is_closed_is_judged_at_the_closing(tenant):
    """P1, respond within 30 minutes. Closed at 09:10 by mistake, with no reply yet; the tech writes
    to the client at 09:45, then reopens at 10:00. The clock stood still from 09:10: 20 minutes of
    the 30 were left. Reopened first and written after, the same clicks were on time: the order of
    two clicks no longer decides the breach."""
    fast_p1(tenant)
    for reply_first in (True, False):
        path = open_ticket(tenant, "P1")
        set_status(tenant, path, at(hours=1 / 6), status="Closed")
        if reply_first:
            tell_client(tenant, path, at(hours=0.75))
            assert read(tenant, path, at(hours=0.8))["respond_breached"] is False  # still closed
        set_status(tenant, path, at(hours=1), status="In Progress")
        if not reply_first:
            tell_client(tenant, path, at(hours=1.1))
        ticket = read(tenant, path, at(hours=2))
        assert ticket["respond_breached"] is False, (reply_first, ticket)


def test_a_one_day_policy_says_one_business_day(tenant):
    policy(tenant, autoclose_business_days=1)
    path = waiting_ticket(tenant)
    sweep(MONDAY + 16 * HOUR)
    notes = [item["text"] for item in tenant.api.get(f"{path}/timeline").json["items"] if item["kind"] == "note"]
    assert notes[-1].startswith("We have not heard from you for 1 business day, so"), notes
