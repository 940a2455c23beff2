"""Auto-close at its edges: what counts as an unanswered attempt, when a client has answered, the
business-day count in the tenant's calendar, and what the sweep touches (and does not)."""

import datetime as dt
import uuid

import pytest
from click.testing import CliRunner

from psa_tickets.directory.models import directory_changed
from psa_tickets.servicedesk import clock
from psa_tickets.servicedesk.autoclose import sweep_tenant
from psa_tickets.servicedesk.commands import tickets_group
from psa_tickets.servicedesk.models import Board

from .projects_seed import in_tenant

MONDAY = dt.datetime(2026, 3, 2, 15, 0)  # 09:00 in Chicago, 15:00 UTC
DAY, HOUR = dt.timedelta(days=1), dt.timedelta(hours=1)


def policy(tenant, **fields):
    board = tenant.api.get("/api/v1/boards").json["items"][0]
    assert tenant.api.patch(f"/api/v1/boards/{board['id']}", json=fields).status_code == 200
    return board


def waiting_ticket(tenant, at=MONDAY, client=None):
    """A ticket opened and put to Waiting on Client at `at`; returns its path."""
    with clock.travel(at):
        made = tenant.api.post(
            "/api/v1/tickets", json={"client_id": (client or tenant.client())["id"], "summary": "Clean out my mailbox"}
        )
        path = f"/api/v1/tickets/{made.json['id']}"
        assert tenant.api.patch(path, json={"status": "Waiting on Client"}).status_code == 200
    return path


def call(tenant, path, at, outcome="no_response", started_at=None, **fields):
    """The tech logs a call at `at` (started then, unless `started_at` says otherwise)."""
    body = {"minutes": 0, "outcome": outcome, "notes": "Called client.", **fields}
    if started_at is not None:
        body["started_at"] = started_at.isoformat() + "Z"
    with clock.travel(at):
        made = tenant.api.post(f"{path}/time-entries", json=body)
    assert made.status_code == 201, made.json
    return made.json


def status(tenant, path):
    return tenant.api.get(path).json["status"]


def sweep(at):
    with clock.travel(at):
        result = CliRunner().invoke(tickets_group, ["sweep"])
    assert result.exit_code == 0, result.output
    return result.output


# --- a client who answered is not "without client response" ---------------------------------


def test_reaching_the_client_restarts_the_business_day_count(tenant):
    """Waiting Monday, policy 3 business days. On Wednesday the tech reaches her: she will send the
    details next week. Thursday's sweep must not close it "without client response": the three
    days run from Wednesday's answer (Thu, Fri, Mon), so it closes on Monday's sweep."""
    policy(tenant, autoclose_business_days=3)
    path = waiting_ticket(tenant)
    call(tenant, path, MONDAY + 2 * DAY + HOUR, outcome="reached", started_at=MONDAY + 2 * DAY)
    assert sweep(MONDAY + 3 * DAY) == "auto-closed 0 ticket(s)\n"
    assert status(tenant, path) == "Waiting on Client"
    assert sweep(MONDAY + 6 * DAY) == "auto-closed 0 ticket(s)\n"  # Sunday: Thu, Fri only
    assert sweep(MONDAY + 7 * DAY) == "auto-closed 1 ticket(s)\n"
    assert status(tenant, path) == "Closed"


def test_logging_that_the_client_was_reached_never_closes_the_ticket(tenant):
    """No sweep ran for a week (the worker was down). The tech finally reaches the client and logs
    it: the very entry that records her answer must not close her ticket "without an answer"."""
    policy(tenant, autoclose_business_days=2)
    path = waiting_ticket(tenant)
    call(tenant, path, MONDAY + 7 * DAY, outcome="reached")
    assert status(tenant, path) == "Waiting on Client"
    trail = tenant.api.get(f"{path}/timeline?audience=client").json["items"]
    assert trail[-1]["kind"] == "time_entry"


def test_an_answer_logged_before_the_ticket_started_waiting_does_not_restart_the_days(tenant):
    policy(tenant, autoclose_business_days=3)
    path = waiting_ticket(tenant)
    # Logged on Wednesday, but the call that reached her was on Monday before she went quiet.
    call(tenant, path, MONDAY + 2 * DAY, outcome="reached", started_at=MONDAY - HOUR)
    assert sweep(MONDAY + 3 * DAY) == "auto-closed 1 ticket(s)\n"


# --- what counts as an attempt -----------------------------------------------------------------


def test_only_no_response_entries_since_waiting_are_attempts(tenant):
    policy(tenant, autoclose_attempts=2)
    path = waiting_ticket(tenant)
    # A call made before the status change, logged after: not an attempt of this wait.
    call(tenant, path, MONDAY + HOUR, started_at=MONDAY - HOUR)
    # Work without an outcome is not an attempt and does not break the row.
    call(tenant, path, MONDAY + 2 * HOUR, outcome=None, notes="Prepared the archive script.")
    call(tenant, path, MONDAY + 3 * HOUR)
    assert status(tenant, path) == "Waiting on Client"
    call(tenant, path, MONDAY + 4 * HOUR, outcome=None)
    assert status(tenant, path) == "Waiting on Client"
    call(tenant, path, MONDAY + 5 * HOUR)
    assert status(tenant, path) == "Closed"


def test_correcting_an_attempt_to_reached_keeps_the_ticket_open_and_deleting_it_lets_the_sweep_close(tenant):
    policy(tenant, autoclose_attempts=2)
    path = waiting_ticket(tenant)
    call(tenant, path, MONDAY + HOUR)
    answered = call(tenant, path, MONDAY + 2 * HOUR, outcome="reached")
    call(tenant, path, MONDAY + 3 * HOUR)
    assert sweep(MONDAY + 4 * HOUR) == "auto-closed 0 ticket(s)\n"
    with clock.travel(MONDAY + 5 * HOUR):  # she had not really answered: it was her voicemail
        assert tenant.api.delete(f"{path}/time-entries/{answered['id']}").status_code == 204
    assert status(tenant, path) == "Waiting on Client"  # edits and deletes wait for the sweep
    assert sweep(MONDAY + 6 * HOUR) == "auto-closed 1 ticket(s)\n"
    assert status(tenant, path) == "Closed"


# --- the business-day count in the tenant's calendar ------------------------------------------


def test_business_days_follow_the_tenants_zone_weekends_and_holidays(tenant):
    hours = {"time_zone": "America/Chicago", "workday_start": "08:00", "workday_end": "17:00",
             "workdays": [1, 2, 3, 4, 5], "holidays": ["2026-03-10"]}  # fmt: skip
    assert tenant.api.put("/api/v1/settings/business-hours", json=hours).status_code == 200
    policy(tenant, autoclose_business_days=3)
    # Friday 19:00 in Chicago is already Saturday in UTC: the wait starts on Friday, locally.
    path = waiting_ticket(tenant, at=dt.datetime(2026, 3, 7, 1, 0))
    # Mon 9, (Tue 10 is a holiday), Wed 11: two days by Wednesday evening in Chicago.
    assert sweep(dt.datetime(2026, 3, 12, 4, 0)) == "auto-closed 0 ticket(s)\n"  # Wed 23:00 CDT
    assert sweep(dt.datetime(2026, 3, 12, 6, 0)) == "auto-closed 1 ticket(s)\n"  # Thu 01:00 CDT
    assert status(tenant, path) == "Closed"


# --- what the sweep touches -----------------------------------------------------------------


def test_closing_trails_the_status_emits_the_event_and_a_second_sweep_does_nothing(tenant, other_tenant, psa):
    policy(tenant, autoclose_business_days=1, autoclose_note="Closing for now.")
    path = waiting_ticket(tenant)
    still_open = tenant.api.post("/api/v1/tickets", json={"client_id": tenant.client()["id"], "summary": "Printer"})
    policy(other_tenant, autoclose_business_days=1)
    elsewhere = waiting_ticket(other_tenant, at=MONDAY + 2 * DAY)  # not due yet
    assert sweep(MONDAY + 2 * DAY) == "auto-closed 1 ticket(s)\n"
    assert sweep(MONDAY + 2 * DAY + HOUR) == "auto-closed 0 ticket(s)\n"
    assert status(tenant, path) == "Closed" and status(other_tenant, elsewhere) == "Waiting on Client"
    assert tenant.api.get(f"/api/v1/tickets/{still_open.json['id']}").json["status"] == "New"
    trail = tenant.api.get(f"{path}/timeline?audience=client").json["items"]
    assert [i["kind"] for i in trail][-2:] == ["status", "note"]
    assert trail[-2]["text"] == "Status changed from Waiting on Client to Closed" and trail[-2]["actor"]["id"] is None
    assert [i["text"] for i in trail].count("Closing for now.") == 1
    changed = [e.payload for e in psa.emitted("ticket.status_changed") if e.payload["status"] == "Closed"]
    assert len(changed) == 1 and changed[0]["old_status"] == "Waiting on Client"
    assert changed[0]["status_kind"] == "closed" and changed[0]["closed_at"] == "2026-03-04T15:00:00Z"


def test_a_policy_set_after_the_ticket_started_waiting_counts_from_the_start_of_the_wait(tenant):
    path = waiting_ticket(tenant)
    call(tenant, path, MONDAY + HOUR)
    call(tenant, path, MONDAY + 2 * HOUR)
    assert status(tenant, path) == "Waiting on Client"  # no policy yet
    policy(tenant, autoclose_attempts=2)
    assert sweep(MONDAY + 3 * HOUR) == "auto-closed 1 ticket(s)\n"
    policy(tenant, autoclose_attempts=None)
    other = waiting_ticket(tenant, at=MONDAY + 4 * HOUR)
    call(tenant, other, MONDAY + 5 * HOUR)
    call(tenant, other, MONDAY + 6 * HOUR)
    assert sweep(MONDAY + 7 * HOUR) == "auto-closed 0 ticket(s)\n"  # policy off: nothing closes


# --- the note the client reads -------------------------------------------------------------------


def closing_note(tenant, path) -> str:
    notes = tenant.api.get(f"{path}/timeline?audience=client").json["items"]
    return [item for item in notes if item["kind"] == "note"][-1]["text"]


def test_a_ticket_closed_for_days_of_silence_says_so_not_that_we_tried_several_times(tenant):
    """No attempt was logged at all: the default note must not tell her we called her again and again."""
    policy(tenant, autoclose_business_days=3)
    path = waiting_ticket(tenant)
    assert sweep(MONDAY + 3 * DAY) == "auto-closed 1 ticket(s)\n"
    note = closing_note(tenant, path)
    assert "3 business days" in note and "several times" not in note
    assert "Open a new request whenever you are ready" in note


def test_a_ticket_closed_after_unanswered_calls_says_we_tried_to_reach_her(tenant):
    policy(tenant, autoclose_attempts=2, autoclose_business_days=10)
    path = waiting_ticket(tenant)
    call(tenant, path, MONDAY + HOUR)
    call(tenant, path, MONDAY + 2 * HOUR)
    note = closing_note(tenant, path)
    assert "We tried to reach you 2 times without an answer" in note
    assert "Open a new request whenever you are ready" in note


@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_board_note_of_only_spaces_is_refused_and_null_or_empty_keeps_the_default(tenant, method):
    """Until 2026-11-27 "   " was taken, and the client read a blank note as her ticket closed."""
    board = tenant.api.get("/api/v1/boards").json["items"][0]
    path, send = "/api/v1/boards" + (f"/{board['id']}" if method == "patch" else ""), getattr(tenant.api, method)
    named = (lambda name: {"name": name}) if method == "post" else (lambda name: {})

    refused = send(path, json={**named("Onboarding"), "autoclose_attempts": 2, "autoclose_note": " \n "})
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
    assert refused.json["errors"] == {"autoclose_note": ["must not be blank"]}
    assert [b["name"] for b in tenant.api.get("/api/v1/boards").json["items"]] == ["Service Desk"]
    assert tenant.api.get(f"/api/v1/boards/{board['id']}").json["autoclose_attempts"] is None
    for name, default in (("Onboarding", ""), ("Projects", None)):
        kept = send(path, json={**named(name), "autoclose_note": default})
        assert kept.status_code in (200, 201) and kept.json["autoclose_note"] == default, kept.json


def test_a_blank_board_note_saved_before_the_check_closes_with_the_default_note(tenant, psa):
    board = policy(tenant, autoclose_attempts=2)
    with in_tenant(psa, tenant):
        Board.update(autoclose_note="   ").where(Board.id == board["id"]).execute()
        directory_changed()  # as a write through the API would
    path = waiting_ticket(tenant)
    call(tenant, path, MONDAY + HOUR)
    call(tenant, path, MONDAY + 2 * HOUR)
    assert status(tenant, path) == "Closed"
    assert closing_note(tenant, path).startswith("We tried to reach you 2 times without an answer, so we are closing")


def test_moving_to_a_second_waiting_status_carries_the_count_on(tenant):
    """The MSP's board has "Waiting on Client" and "Waiting on Client - Final Notice". Moving the
    ticket from one to the other is still waiting on her: the unanswered calls keep counting."""
    board = policy(tenant, autoclose_attempts=2)
    final = {"name": "Waiting on Client - Final Notice", "kind": "waiting"}
    assert tenant.api.post(f"/api/v1/boards/{board['id']}/statuses", json=final).status_code == 201
    path = waiting_ticket(tenant)
    call(tenant, path, MONDAY + HOUR)
    with clock.travel(MONDAY + 2 * HOUR):
        moved = tenant.api.patch(path, json={"status": final["name"]})
    assert moved.status_code == 200 and moved.json["status"] == final["name"]
    call(tenant, path, MONDAY + 3 * HOUR)
    assert status(tenant, path) == "Closed"


# --- what changed while the sweep went through a board ------------------------------------------


def sweep_meanwhile(psa, tenant, at, statements, then=()) -> int:
    """One tenant's sweep at `at`, while another writer holds `statements` (`then` runs once the
    sweep waits on the ticket it locks) uncommitted: a dispatcher or an admin caught mid-way."""

    def sweep_once():
        with clock.travel(at), psa.service("tickets").db.proxy.connection_context():
            return sweep_tenant(uuid.UUID(tenant.id))

    return psa.meanwhile("tickets", statements, sweep_once, then)


def moved_to(tenant, path: str, board: dict) -> tuple:
    """A dispatcher's move of the ticket to `board`'s waiting status, as SQL for `sweep_meanwhile`."""
    statuses = tenant.api.get(f"/api/v1/boards/{board['id']}/statuses").json["items"]
    waiting = next(s["id"] for s in statuses if s["kind"] == "waiting")
    ids = (uuid.UUID(board["id"]), uuid.UUID(waiting), uuid.UUID(path.rsplit("/", 1)[1]))
    return "UPDATE ticket SET board_id = %s, status_id = %s WHERE id = %s", ids


def test_a_ticket_moved_to_another_board_while_the_sweep_runs_is_not_closed_by_the_old_boards_policy(tenant, psa):
    """The Service Desk closes after 1 business day; Projects has no policy. The sweep lists the
    Service Desk's waiting tickets, and a dispatcher moves one to Projects before the sweep locks
    it: it is Projects' ticket now, still waiting. Until 2026-11-28 it was closed by the Service
    Desk's policy and given the Service Desk's Closed status while filed under Projects."""
    policy(tenant, autoclose_business_days=1)
    projects = tenant.api.post("/api/v1/boards", json={"name": "Projects"}).json
    path = waiting_ticket(tenant)

    assert sweep_meanwhile(psa, tenant, MONDAY + 2 * DAY, [moved_to(tenant, path, projects)]) == 0
    after = tenant.api.get(path).json
    assert (after["board_id"], after["status"]) == (projects["id"], "Waiting on Client")


def test_a_ticket_moved_to_a_policed_board_while_the_sweep_runs_closes_into_that_boards_status(tenant, psa):
    """Moved meanwhile to Projects, whose own 1-day policy closes into "Closed - No Reply": the
    sweep closes it there, by Projects' policy, never into the Service Desk's Closed."""
    policy(tenant, autoclose_business_days=1)
    projects = tenant.api.post("/api/v1/boards", json={"name": "Projects", "autoclose_business_days": 1}).json
    no_reply = {"name": "Closed - No Reply", "kind": "closed"}
    assert tenant.api.post(f"/api/v1/boards/{projects['id']}/statuses", json=no_reply).status_code == 201
    path = waiting_ticket(tenant)

    assert sweep_meanwhile(psa, tenant, MONDAY + 2 * DAY, [moved_to(tenant, path, projects)]) == 1
    after = tenant.api.get(path).json
    assert (after["board_id"], after["status"]) == (projects["id"], "Closed - No Reply")


def test_a_policy_turned_off_while_the_sweep_runs_closes_nothing_more(tenant, psa):
    """The admin turns the Service Desk's 1-day policy off while the sweep is on its way through
    the board's waiting tickets (the sweep waits on one a tech is saving): that ticket stays open.
    Until 2026-11-28 the sweep judged every ticket by the policy read at the start of its pass."""
    board = policy(tenant, autoclose_business_days=1)
    path = waiting_ticket(tenant)
    ticket_id = uuid.UUID(path.rsplit("/", 1)[1])
    saving = ("UPDATE ticket SET spent_minutes = spent_minutes + 5 WHERE id = %s", (ticket_id,))
    off = ("UPDATE board SET autoclose_business_days = NULL WHERE id = %s", (uuid.UUID(board["id"]),))

    assert sweep_meanwhile(psa, tenant, MONDAY + 2 * DAY, [saving], then=[off]) == 0
    assert status(tenant, path) == "Waiting on Client"
