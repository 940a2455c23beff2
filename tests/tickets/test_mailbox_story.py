"""The mailbox clean-out that never happened, told through the API from first call to auto-close."""

import datetime as dt

import pytest

from psa_tickets.servicedesk import clock

START = dt.datetime(2026, 3, 2, 14, 0)  # a Monday, 08:00 in Chicago


@pytest.fixture
def travel():
    """Move the service desk's clock: `travel(days, hours)` after START."""
    stack = []

    def go(days=0, hours=0, minutes=0):
        if stack:
            stack.pop().__exit__(None, None, None)
        moment = START + dt.timedelta(days=days, hours=hours, minutes=minutes)
        context = clock.travel(moment)
        context.__enter__()
        stack.append(context)
        return moment.isoformat() + "Z"

    yield go
    while stack:
        stack.pop().__exit__(None, None, None)


def call(api, ticket_id, at, internal="Mailbox is at 49.5 of 50 GB."):
    made = api.post(
        f"/api/v1/tickets/{ticket_id}/time-entries",
        json={
            "started_at": at,
            "minutes": 0,
            "billing": "billable",
            "notes": "Called client. Left voicemail.",
            "internal_notes": internal,
            "outcome": "no_response",
            "work_type": "Remote support",
        },
    )
    assert made.status_code == 201, made.json
    return made.json


def test_mailbox_clean_out_closes_after_unanswered_calls_and_the_trail_tells_it_all(tenant, psa, travel):
    tech = tenant.member("technician", all_clients=True)
    dispatcher = tenant.member("dispatcher", all_clients=True)
    client = tenant.client("Acme Dental")
    contact = tenant.api.post("/api/v1/contacts", json={"client_id": client["id"], "name": "Dana Whitfield"}).json
    board = tenant.api.get("/api/v1/boards").json["items"][0]
    policy = {"autoclose_attempts": 2, "autoclose_note": "We could not reach you. Open a new request when ready."}
    assert tenant.api.patch(f"/api/v1/boards/{board['id']}", json=policy).status_code == 200

    travel()
    opened = dispatcher.api.post(
        "/api/v1/tickets",
        json={"client_id": client["id"], "contact_id": contact["id"], "summary": "Clean out my mailbox",
              "priority": "P3", "assignee_id": tech.id, "estimate_minutes": 60},
    )  # fmt: skip
    assert opened.status_code == 201, opened.json
    ticket = opened.json
    assert ticket["status"] == "New" and ticket["number"] == 1 and ticket["respond_due_at"]
    path = f"/api/v1/tickets/{ticket['id']}"

    # Ten days, eight calls: seven to voicemail, then she picks up and asks for a handout.
    for day in (0, 1, 2, 3, 6, 7, 8):
        call(tech.api, ticket["id"], travel(days=day, hours=1 + day % 3))
    reached = tech.api.post(
        f"{path}/time-entries",
        json={"started_at": travel(days=9, hours=2), "minutes": 5, "billing": "billable", "outcome": "reached",
              "notes": "Reached client; she asked for a handout on archiving.", "internal_notes": "She sounded busy."},
    )  # fmt: skip
    assert reached.status_code == 201
    tech.api.post(f"{path}/notes", json={"text": "Emailed the mailbox archiving handout.", "internal": False})
    tech.api.post(f"{path}/notes", json={"text": "Boss is impatient; keep it short.", "internal": True})
    assert tech.api.patch(path, json={"priority": "P4"}).json["priority"] == "P4"

    travel(days=9, hours=3)
    waiting = tech.api.patch(path, json={"status": "Waiting on Client"}).json
    assert waiting["status_kind"] == "waiting"

    # The next attempts after she went quiet: the second closes the ticket by policy.
    call(tech.api, ticket["id"], travel(days=10, hours=1))
    assert tenant.api.get(path).json["status"] == "Waiting on Client"
    call(tech.api, ticket["id"], travel(days=10, hours=5))
    closed = tenant.api.get(path).json
    assert closed["status"] == "Closed" and closed["closed_at"] == travel(days=10, hours=5)
    assert closed["spent_minutes"] == 5

    # Her boss calls: the dispatcher reads every step, with dates, times and who did it.
    trail = dispatcher.api.get(f"{path}/timeline").json["items"]
    assert [i["at"] for i in trail] == sorted(i["at"] for i in trail)
    assert trail[0]["kind"] == "created" and trail[0]["actor"]["id"] == dispatcher.id
    calls = [i for i in trail if i["kind"] == "time_entry"]
    assert len(calls) == 10 and sum(i["outcome"] == "no_response" for i in calls) == 9
    assert all(i["actor"]["id"] == tech.id and i["actor"]["name"] == "Technician" for i in calls)
    assert calls[0]["at"] == "2026-03-02T15:00:00Z" and calls[0]["minutes"] == 0 and calls[0]["billing"] == "billable"
    kinds = [i["kind"] for i in trail]
    assert kinds.count("note") == 3 and "priority" in kinds and kinds[-2:] == ["status", "note"]
    assert trail[-1]["text"] == policy["autoclose_note"] and trail[-1]["actor"]["id"] is None
    assert any("Waiting on Client" in i["text"] for i in trail if i["kind"] == "status")

    # What the client may read: no internal notes, no internal notes of entries, no estimate changes.
    client_view = dispatcher.api.get(f"{path}/timeline?audience=client").json["items"]
    texts = " ".join(i["text"] for i in client_view)
    assert "impatient" not in texts and "Emailed the mailbox archiving handout." in texts
    assert all("internal_notes" not in i for i in client_view)
    report = dispatcher.api.get(f"{path}/report.html")
    assert report.status_code == 200 and report.content_type.startswith("text/html")
    page = report.get_data(as_text=True)
    assert "Called client. Left voicemail." in page and "49.5" not in page and "impatient" not in page
    assert "2026-03-02 15:00 UTC" in page and "Technician" in page

    psa.settle()
