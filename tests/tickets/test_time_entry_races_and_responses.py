"""Time entries at their edges: two techs on one entry at once, a start date typed wrong, and
the SLA response an entry gave taken back when the entry is deleted or loses its notes."""

import datetime as dt
import uuid

import pytest

from psa_tickets.servicedesk import clock

from .projects_seed import in_tenant, project, task
from .test_service_desk import log, open_ticket

MONDAY_9 = dt.datetime(2026, 3, 2, 9, 0)  # UTC tenant, 08:00-17:00 Monday to Friday


def at(minutes: int) -> dt.datetime:
    return MONDAY_9 + dt.timedelta(minutes=minutes)


def _deleted(entry: dict) -> tuple:
    """Another tech's DELETE of the entry, as the service writes it (the entry row goes)."""
    return ("DELETE FROM timeentry WHERE id = %s", (uuid.UUID(entry["id"]),))


# --- two techs on one entry ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_an_entry_deleted_while_another_tech_edits_or_deletes_it_is_not_found(tenant, psa, method):
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    entry = log(tenant.api, ticket["id"], minutes=20, notes="Replaced toner").json
    path = f"/api/v1/tickets/{ticket['id']}/time-entries/{entry['id']}"
    send = getattr(tenant.api, method)

    answer = psa.meanwhile("tickets", [_deleted(entry)], lambda: send(path, json={"minutes": 25}))

    assert answer.status_code == 404 and answer.content_type == "application/problem+json", answer.json
    assert answer.json["detail"] == "time entry not found"
    assert tenant.api.get(path).status_code == 404


def test_a_task_entry_deleted_while_the_engineer_edits_it_is_not_found(tenant, psa):
    cabling = task(tenant.api, project(tenant.api, tenant.client()["id"])["id"])
    logged = tenant.api.post(f"/api/v1/tasks/{cabling['id']}/time-entries", json={"minutes": 60})
    assert logged.status_code == 201, logged.json
    path = f"/api/v1/tasks/{cabling['id']}/time-entries/{logged.json['id']}"

    answer = psa.meanwhile("tickets", [_deleted(logged.json)], lambda: tenant.api.patch(path, json={"minutes": 90}))

    assert answer.status_code == 404 and answer.content_type == "application/problem+json", answer.json


# --- the start of the work -------------------------------------------------------------------


@pytest.mark.parametrize("started_at", ["0001-01-01T00:00:00Z", "0226-03-02T09:00:00Z", "1969-12-31T23:59:00Z"])
def test_work_dated_before_1970_is_refused_naming_started_at(tenant, started_at):
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    refused = log(tenant.api, ticket["id"], started_at=started_at)
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
    assert refused.json["errors"] == {"started_at": ["must not be before 1970-01-01"]}

    entry = log(tenant.api, ticket["id"], started_at="2026-03-02T09:00:00Z").json
    path = f"/api/v1/tickets/{ticket['id']}/time-entries/{entry['id']}"
    assert tenant.api.patch(path, json={"started_at": started_at}).json["errors"] == refused.json["errors"]
    assert tenant.api.get(f"/api/v1/tickets/{ticket['id']}/time-entries").json["items"] == [entry]


def test_the_ticket_report_prints_an_entry_dated_year_one_taken_before_the_bound(tenant, psa):
    """Until 2026-11-27 such an entry was taken; in Chicago, year 1 minus six hours is no date
    Python holds, and the report answered 500."""
    chicago = {"time_zone": "America/Chicago", "workday_start": "08:00", "workday_end": "17:00",
               "workdays": [1, 2, 3, 4, 5], "holidays": []}  # fmt: skip
    assert tenant.api.put("/api/v1/settings/business-hours", json=chicago).status_code == 200
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    entry = log(tenant.api, ticket["id"], notes="Called client.").json
    with in_tenant(psa, tenant):
        from psa_tickets.servicedesk.models import TimeEntry

        TimeEntry.update(started_at=dt.datetime(1, 1, 1)).where(TimeEntry.id == entry["id"]).execute()

    for report in ("report.html", "report.html?format=pdf"):
        printed = tenant.api.get(f"/api/v1/tickets/{ticket['id']}/{report}")
        assert printed.status_code == 200, printed.get_data(as_text=True)[:500]
    assert "0001-01-01 00:00 UTC" in tenant.api.get(f"/api/v1/tickets/{ticket['id']}/report.html").get_data(True)


# --- the response an entry gave --------------------------------------------------------------


def _p1(tenant) -> str:
    with clock.travel(MONDAY_9):
        return f"/api/v1/tickets/{open_ticket(tenant.api, tenant.client()['id'], priority='P1')['id']}"


def _entry(tenant, path: str, moment: dt.datetime, **fields) -> str:
    with clock.travel(moment):
        made = tenant.api.post(f"{path}/time-entries", json={"minutes": 10, **fields})
    assert made.status_code == 201, made.json
    return f"{path}/time-entries/{made.json['id']}"


def _read(tenant, path: str, moment: dt.datetime) -> dict:
    with clock.travel(moment):
        return tenant.api.get(path).json


def test_deleting_the_only_entry_that_answered_the_client_opens_the_respond_clock_again(tenant):
    path = _p1(tenant)  # P1: respond within 60 business minutes, due 10:00
    answer = _entry(tenant, path, at(15), notes="Rebooted the printer; try now.")
    assert _read(tenant, path, at(16))["responded_at"] == "2026-03-02T09:15:00Z"

    with clock.travel(at(20)):
        assert tenant.api.delete(answer).status_code == 204

    late = _read(tenant, path, at(90))
    assert late["responded_at"] is None and late["respond_due_at"] == "2026-03-02T10:00:00Z"
    assert late["respond_breached"] is True  # nobody has told the client anything by 10:30


def test_an_edit_removing_the_notes_of_the_answer_falls_back_to_the_next_client_visible_action(tenant):
    path = _p1(tenant)
    answer = _entry(tenant, path, at(15), notes="Rebooted the printer; try now.")
    _entry(tenant, path, at(25), internal_notes="Toner low")  # says nothing to the client
    with clock.travel(at(40)):
        assert tenant.api.post(f"{path}/notes", json={"text": "Ordering toner.", "internal": False}).status_code == 201
    _entry(tenant, path, at(50), notes="Toner ordered.")

    with clock.travel(at(55)):
        assert tenant.api.patch(answer, json={"notes": "   "}).status_code == 200

    assert _read(tenant, path, at(56))["responded_at"] == "2026-03-02T09:40:00Z"  # the note, not the later entry
    with clock.travel(at(57)):
        assert tenant.api.patch(answer, json={"notes": "Rebooted it again."}).status_code == 200
    assert _read(tenant, path, at(58))["responded_at"] == "2026-03-02T09:40:00Z"  # the first response stays


def test_deleting_a_later_answer_keeps_the_first_response(tenant):
    path = _p1(tenant)
    first = _entry(tenant, path, at(15), minutes=0)  # logged without notes ...
    with clock.travel(at(30)):  # ... which an edit adds: the response is the edit's moment
        assert tenant.api.patch(first, json={"notes": "Called; walking her through it."}).status_code == 200
    later = _entry(tenant, path, at(45), notes="Fixed.")

    with clock.travel(at(50)):
        assert tenant.api.delete(later).status_code == 204

    assert _read(tenant, path, at(51))["responded_at"] == "2026-03-02T09:30:00Z"  # not the entry's 09:15


def test_deleting_an_entry_without_notes_leaves_the_response_alone(tenant):
    path = _p1(tenant)
    _entry(tenant, path, at(15), notes="On it.")
    silent = _entry(tenant, path, at(20))
    with clock.travel(at(25)):
        assert tenant.api.delete(silent).status_code == 204
    assert _read(tenant, path, at(26))["responded_at"] == "2026-03-02T09:15:00Z"


def test_an_answer_withdrawn_after_a_wait_reopens_the_respond_clock_with_the_wait_paused(tenant):
    """09:10 the tech answers (respond due 10:00), 09:20 the ticket waits on the client until 12:00,
    12:05 the answer is deleted. Nobody has answered, and the respond clock ran 09:00-09:20 and from
    12:00: 60 minutes plus the 160 of the wait fall due at 12:40, not breached at 12:06. Until
    2026-11-28 it read due 10:00 and breached, until an unrelated edit worked it out again."""
    path = _p1(tenant)
    answer = _entry(tenant, path, at(10), notes="On it.")
    for moment, status in ((at(20), "Waiting on Client"), (at(180), "In Progress")):
        with clock.travel(moment):
            assert tenant.api.patch(path, json={"status": status}).status_code == 200
    with clock.travel(at(185)):
        assert tenant.api.delete(answer).status_code == 204

    reopened = _read(tenant, path, at(186))
    assert (reopened["responded_at"], reopened["respond_due_at"]) == (None, "2026-03-02T12:40:00Z")
    assert reopened["respond_breached"] is False
    with clock.travel(at(187)):
        assert tenant.api.patch(path, json={"summary": "Printer jams again"}).status_code == 200
    assert _read(tenant, path, at(188))["respond_due_at"] == "2026-03-02T12:40:00Z"  # an edit moves nothing
