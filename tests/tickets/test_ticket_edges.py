"""Edges of changing a ticket, logging time and reading the trail, as a dispatcher meets them."""

import datetime as dt

from psa_tickets.servicedesk import clock

from .test_service_desk import apply, configuration, log, open_ticket, outbox

MONDAY = dt.datetime(2026, 3, 2, 9, 0)  # the test tenant works 08:00-17:00 UTC


def test_an_entry_given_client_notes_later_responds_when_the_notes_are_written(tenant):
    """The tech logs ten minutes of research at 09:00 with internal notes only; the client sees
    nothing until 14:00, when the tech edits the entry to say what was done. The P1 promise (respond
    within an hour) was missed: the response is 14:00, not the 09:00 the entry was first logged."""
    with clock.travel(MONDAY):
        ticket = open_ticket(tenant.api, tenant.client()["id"], priority="P1")
        entry = log(tenant.api, ticket["id"], minutes=10, internal_notes="Checked the mail server logs").json
    path = f"/api/v1/tickets/{ticket['id']}"
    assert tenant.api.get(path).json["responded_at"] is None
    with clock.travel(MONDAY + dt.timedelta(hours=5)):
        edited = tenant.api.patch(f"{path}/time-entries/{entry['id']}", json={"notes": "Cleared the stuck queue"})
        assert edited.status_code == 200
        shown = tenant.api.get(path).json
    assert shown["respond_due_at"] == "2026-03-02T10:00:00Z"
    assert shown["responded_at"] == "2026-03-02T14:00:00Z"
    assert shown["respond_breached"] is True


def test_an_entry_logged_with_notes_responds_at_once_and_a_later_edit_keeps_that_response(tenant):
    with clock.travel(MONDAY):
        ticket = open_ticket(tenant.api, tenant.client()["id"], priority="P1")
    path = f"/api/v1/tickets/{ticket['id']}"
    with clock.travel(MONDAY + dt.timedelta(minutes=20)):
        entry = log(tenant.api, ticket["id"], minutes=5, notes="Called you, on it").json
    with clock.travel(MONDAY + dt.timedelta(hours=3)):
        tenant.api.patch(f"{path}/time-entries/{entry['id']}", json={"notes": "Called you, on it (5 min)"})
    shown = tenant.api.get(path).json
    assert shown["responded_at"] == "2026-03-02T09:20:00Z" and shown["respond_breached"] is False


def test_a_ticket_cannot_be_handed_to_a_tech_who_has_left(tenant, psa):
    """Dana left the MSP and was deactivated: a ticket given to her would sit in a queue nobody reads."""
    client = tenant.client()
    dana = tenant.member("technician", all_clients=True)
    ticket = open_ticket(tenant.api, client["id"], assignee_id=dana.id)
    assert tenant.api.post(f"/api/v1/members/{dana.id}/deactivate").status_code == 200
    path = f"/api/v1/tickets/{ticket['id']}"
    events = len(outbox(psa, "ticket.updated"))

    refused = tenant.api.patch(path, json={"assignee_id": None})
    assert refused.status_code == 200  # taking the ticket off her is fine
    refused = tenant.api.patch(path, json={"assignee_id": dana.id, "priority": "P1"})
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
    assert "assignee_id" in refused.json["errors"]
    refused = tenant.api.post(
        "/api/v1/tickets", json={"client_id": client["id"], "summary": "x", "assignee_id": dana.id}
    )
    assert refused.status_code == 422 and "assignee_id" in refused.json["errors"]

    after = tenant.api.get(path).json
    assert (after["assignee_id"], after["priority"]) == (None, "P3")
    kinds = [i["kind"] for i in tenant.api.get(f"{path}/timeline").json["items"]]
    assert kinds == ["created", "assignee"]  # her unassignment only
    assert len(outbox(psa, "ticket.updated")) == events + 1
    assert len(tenant.api.get("/api/v1/tickets").json["items"]) == 1


def test_a_ticket_still_held_by_a_leaver_can_be_edited_without_reassigning_it(tenant):
    """A form sends the whole ticket back, the unchanged assignee included: that is no new assignment."""
    dana = tenant.member("technician", all_clients=True)
    ticket = open_ticket(tenant.api, tenant.client()["id"], assignee_id=dana.id)
    tenant.api.post(f"/api/v1/members/{dana.id}/deactivate")
    edited = tenant.api.patch(f"/api/v1/tickets/{ticket['id']}", json={"assignee_id": dana.id, "priority": "P2"})
    assert edited.status_code == 200 and edited.json["priority"] == "P2"


def test_a_patch_that_changes_nothing_leaves_the_ticket_and_its_events_alone(tenant, psa):
    """The dispatcher saves the ticket form without touching it: no new `updated_at`, no event
    telling billing and the vault the ticket changed, no trail row."""
    client = tenant.client()
    pc = configuration(psa, tenant, client["id"])
    ticket = open_ticket(tenant.api, client["id"], configuration_ids=[pc["id"]], estimate_minutes=60)
    path = f"/api/v1/tickets/{ticket['id']}"
    same = {"status": "New", "priority": "P3", "summary": ticket["summary"], "estimate_minutes": 60,
            "assignee_id": None, "configuration_ids": [pc["id"]]}  # fmt: skip
    for body in ({}, same):
        saved = tenant.api.patch(path, json=body)
        assert saved.status_code == 200
        assert saved.json["updated_at"] == ticket["updated_at"], body
    assert outbox(psa, "ticket.updated") == [] and outbox(psa, "ticket.status_changed") == []
    assert [i["kind"] for i in tenant.api.get(f"{path}/timeline").json["items"]] == ["created"]


def test_a_retired_configuration_on_a_ticket_does_not_block_adding_its_replacement(tenant, psa):
    """The ticket is about the old front-desk PC; the vault retires it and the tech adds the new
    one, keeping the old on the ticket. Only the newly named configuration has to be active."""
    client = tenant.client()
    old_pc = configuration(psa, tenant, client["id"], name="Old front desk PC")
    ticket = open_ticket(tenant.api, client["id"], configuration_ids=[old_pc["id"]])
    retired = {**old_pc, "active": False, "updated_at": "2026-03-05T10:00:00Z"}
    assert apply(psa, "configuration.updated", tenant.id, retired)
    new_pc = configuration(psa, tenant, client["id"], name="New front desk PC")
    path = f"/api/v1/tickets/{ticket['id']}"
    both = sorted([old_pc["id"], new_pc["id"]])
    saved = tenant.api.patch(path, json={"configuration_ids": both})
    assert saved.status_code == 200, saved.json
    assert saved.json["configuration_ids"] == both
    # naming the retired one anew, on another ticket, is still refused
    other = open_ticket(tenant.api, client["id"])
    refused = tenant.api.patch(f"/api/v1/tickets/{other['id']}", json={"configuration_ids": [old_pc["id"]]})
    assert refused.status_code == 422 and "configuration_ids" in refused.json["errors"]


def test_one_patch_changing_four_things_leaves_four_trail_items_and_the_client_sees_three(tenant):
    tech = tenant.member("technician", all_clients=True)
    with clock.travel(MONDAY):
        ticket = open_ticket(tenant.api, tenant.client()["id"], estimate_minutes=60)
    path = f"/api/v1/tickets/{ticket['id']}"
    with clock.travel(MONDAY + dt.timedelta(hours=1)):
        change = {"status": "In Progress", "priority": "P1", "assignee_id": tech.id, "estimate_minutes": 120}
        assert tenant.api.patch(path, json=change).status_code == 200
        log(tenant.api, ticket["id"], minutes=15, notes="Started", internal_notes="VPN creds in vault")
    with clock.travel(MONDAY + dt.timedelta(hours=2)):
        assert tenant.api.patch(path, json={"assignee_id": None, "estimate_minutes": None}).status_code == 200
    items = tenant.api.get(f"{path}/timeline").json["items"]
    assert [(i["at"][11:16], i["kind"], i["actor"]["id"]) for i in items] == [
        ("09:00", "created", tenant.admin_id),
        ("10:00", "time_entry", tenant.admin_id),  # at one instant the work comes first
        ("10:00", "status", tenant.admin_id),
        ("10:00", "priority", tenant.admin_id),
        ("10:00", "assignee", tenant.admin_id),
        ("10:00", "estimate", tenant.admin_id),
        ("11:00", "assignee", tenant.admin_id),
        ("11:00", "estimate", tenant.admin_id),
    ]
    assert [(i["old_value"], i["new_value"]) for i in items[-2:]] == [(tech.id, None), ("120", None)]
    assert items[-2]["text"] == "Unassigned" and items[-1]["text"] == "Estimate changed from 120 min to none"
    shown = tenant.api.get(f"{path}/timeline?audience=client").json["items"]
    assert [i["kind"] for i in shown] == ["created", "time_entry", "status", "priority", "assignee", "assignee"]
    assert "VPN creds" not in str(shown) and "internal_notes" not in shown[1]


def test_a_corrected_summary_is_in_the_trail_between_the_opening_and_the_reports_heading(tenant):
    """Opened as "VPN down - call Bob", corrected to "VPN down": until 2026-11-28 the client's trail
    and reports said "opened: VPN down - call Bob" under the heading "VPN down", nothing between."""
    with clock.travel(MONDAY):
        ticket = open_ticket(tenant.api, tenant.client()["id"], summary="VPN down - call Bob")
    path = f"/api/v1/tickets/{ticket['id']}"
    with clock.travel(MONDAY + dt.timedelta(minutes=5)):
        assert tenant.api.patch(path, json={"summary": "VPN down"}).status_code == 200
    for audience in ("", "?audience=client"):
        items = tenant.api.get(f"{path}/timeline{audience}").json["items"]
        assert [(i["kind"], i["text"]) for i in items] == [
            ("created", f"Ticket #{ticket['number']} opened: VPN down - call Bob"),
            ("summary", "Summary changed to VPN down"),
        ]
        assert (items[1]["old_value"], items[1]["new_value"]) == ("VPN down - call Bob", "VPN down")
    with clock.travel(MONDAY + dt.timedelta(minutes=6)):
        report = tenant.api.get(f"{path}/report.html").get_data(as_text=True)
    assert "Summary changed to VPN down" in report


def test_time_cannot_be_logged_in_the_future(tenant, psa):
    """The tech types 2027 for 2026 on a voicemail call. Logged, it would be billed for a day not
    yet come and, as the latest contact attempt until then, count as unanswered after every call
    that reaches the client, so auto-close would shut a ticket whose client just answered."""
    with clock.travel(MONDAY):
        ticket = open_ticket(tenant.api, tenant.client()["id"], status="Waiting on Client")
        path = f"/api/v1/tickets/{ticket['id']}/time-entries"
        refused = log(tenant.api, ticket["id"], minutes=0, outcome="no_response", started_at="2027-03-02T09:00:00Z")
        assert refused.status_code == 422 and refused.content_type == "application/problem+json"
        assert "started_at" in refused.json["errors"]
        assert tenant.api.get(path).json["items"] == [] and outbox(psa, "time_entry.logged") == []
        # within a day is a wrong clock or time zone, or today's work logged early: taken
        entry = log(tenant.api, ticket["id"], minutes=0, started_at="2026-03-02T18:00:00Z").json
        refused = tenant.api.patch(f"{path}/{entry['id']}", json={"started_at": "2026-03-12T09:00:00Z"})
        assert refused.status_code == 422 and "started_at" in refused.json["errors"]
        assert tenant.api.get(f"{path}/{entry['id']}").json["started_at"] == "2026-03-02T18:00:00Z"
        assert outbox(psa, "time_entry.updated") == []


def test_saving_a_time_entry_unchanged_tells_billing_nothing(tenant, psa):
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    entry = log(tenant.api, ticket["id"], minutes=30, notes="Replaced toner", member_id=tenant.admin_id).json
    path = f"/api/v1/tickets/{ticket['id']}/time-entries/{entry['id']}"
    same = {k: entry[k] for k in ("member_id", "started_at", "minutes", "billing", "notes", "outcome", "work_type")}
    for body in ({}, same):
        saved = tenant.api.patch(path, json=body)
        assert saved.status_code == 200 and saved.json == entry, body
    assert outbox(psa, "time_entry.updated") == []
    moved = tenant.api.patch(path, json={**same, "minutes": 45, "member_id": tenant.admin_id})
    assert moved.status_code == 200 and moved.json["minutes"] == 45
    assert tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json["spent_minutes"] == 45
    assert [e["payload"]["minutes"] for e in outbox(psa, "time_entry.updated")] == [45]


def test_corrected_and_deleted_time_stays_in_the_dispatchers_trail_but_not_the_clients(tenant):
    """480 minutes typed for 48, and a call logged twice: fixed, and the trail says so, to us."""
    with clock.travel(MONDAY):
        ticket = open_ticket(tenant.api, tenant.client()["id"])
        path = f"/api/v1/tickets/{ticket['id']}"
        typo = log(tenant.api, ticket["id"], minutes=480, started_at="2026-03-02T09:30:00Z", notes="Moved mailbox").json
        twice = log(tenant.api, ticket["id"], minutes=0, started_at="2026-03-02T10:00:00Z", outcome="no_response",
                    notes="Called client. Left voicemail.").json  # fmt: skip
    with clock.travel(MONDAY + dt.timedelta(hours=3)):
        fixed = tenant.api.patch(f"{path}/time-entries/{typo['id']}", json={"minutes": 48, "billing": "no_charge"})
        assert fixed.status_code == 200, fixed.json
        assert tenant.api.delete(f"{path}/time-entries/{twice['id']}").status_code == 204

    trail = tenant.api.get(f"{path}/timeline").json["items"]
    edited, deleted = (
        next(i for i in trail if i["kind"] == kind) for kind in ("time_entry_edited", "time_entry_deleted")
    )
    assert (
        edited["text"]
        == "Edited the time entry of 2026-03-02 09:30 UTC: minutes 480 -> 48, billing billable -> no_charge"
    )
    assert (edited["old_value"], edited["new_value"], edited["internal"]) == ("480", "48", True)
    assert edited["actor"]["id"] == tenant.admin_id and edited["at"] == "2026-03-02T12:00:00Z"
    assert deleted["text"] == (
        "Deleted the time entry of 2026-03-02 10:00 UTC (0 min, billable): Called client. Left voicemail."
    )
    assert deleted["internal"] is True
    client_kinds = [i["kind"] for i in tenant.api.get(f"{path}/timeline?audience=client").json["items"]]
    assert client_kinds == ["created", "time_entry"]


def test_time_moved_to_another_member_names_both_and_the_entry_as_it_was_known(tenant):
    """The dispatcher reads whose time it was and whose it is, and finds the entry by the start it
    had (until 2026-11-27: "member", and the entry named by its new start)."""
    client = tenant.client()
    tech = tenant.member(grants=[client["id"]])
    with clock.travel(MONDAY):
        ticket = open_ticket(tenant.api, client["id"])
        entry = log(tenant.api, ticket["id"], minutes=30, started_at="2026-03-02T09:00:00Z", notes="Moved mailbox").json
    path = f"/api/v1/tickets/{ticket['id']}"
    with clock.travel(MONDAY + dt.timedelta(hours=1)):
        moved = tenant.api.patch(
            f"{path}/time-entries/{entry['id']}", json={"member_id": tech.id, "started_at": "2026-03-02T08:30:00Z"}
        )
        assert moved.status_code == 200, moved.json
    edited = next(i for i in tenant.api.get(f"{path}/timeline").json["items"] if i["kind"] == "time_entry_edited")
    assert edited["text"] == (
        "Edited the time entry of 2026-03-02 09:00 UTC: "
        "member Administrator -> Technician, start 2026-03-02 09:00 -> 2026-03-02 08:30 UTC"
    )


def test_a_start_beyond_the_calendar_in_utc_is_refused_by_name(tenant):
    """Midnight of year 1 at UTC+1 is in year 0 in UTC: a 422 naming the field, not a 500."""
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    for moment in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00"):
        refused = log(tenant.api, ticket["id"], started_at=moment)
        assert refused.status_code == 422 and "started_at" in refused.json["errors"], (moment, refused.json)
    assert tenant.api.get(f"/api/v1/tickets/{ticket['id']}/time-entries").json["items"] == []


def test_an_entry_whose_notes_are_blank_is_not_the_response(tenant):
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    assert log(tenant.api, ticket["id"], minutes=10, notes="   \n").status_code == 201
    after = tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json
    assert (after["responded_at"], after["spent_minutes"]) == (None, 10)


def test_a_nul_character_pasted_into_any_field_is_refused_by_name(tenant):
    """A NUL pasted from a terminal dump: PostgreSQL's text cannot hold it (the write was a 500)."""
    client = tenant.client()
    for body, field in (
        ({"client_id": client["id"], "summary": "Printer\u0000jams"}, "summary"),
        (
            {"client_id": client["id"], "summary": "Printer jams", "configuration_ids": ["\u0000"]},
            "configuration_ids.0",
        ),
    ):
        refused = tenant.api.post("/api/v1/tickets", json=body)
        assert refused.status_code == 422 and refused.content_type == "application/problem+json"
        assert list(refused.json["errors"]) == [field], refused.json
    searched = tenant.api.get("/api/v1/clients?q=Acme%00")
    assert searched.status_code == 422 and list(searched.json["errors"]) == ["q"], searched.json
    assert tenant.api.get("/api/v1/tickets").json["items"] == []


def test_a_call_found_to_have_reached_her_reads_none_to_reached_and_the_trail_opens_when_the_ticket_did(tenant):
    """Until 2026-11-28 the trail printed Python's "outcome None -> reached", and its "opened"
    item was stamped a few milliseconds after the ticket's `created_at` (on the running clock)."""
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    path = f"/api/v1/tickets/{ticket['id']}"
    call = log(tenant.api, ticket["id"], minutes=5, started_at="2026-03-02T09:30:00Z", notes="Talked to Dana").json
    assert tenant.api.patch(f"{path}/time-entries/{call['id']}", json={"outcome": "reached"}).status_code == 200
    trail = tenant.api.get(f"{path}/timeline").json["items"]
    edited = next(i for i in trail if i["kind"] == "time_entry_edited")
    assert edited["text"] == "Edited the time entry of 2026-03-02 09:30 UTC: outcome none -> reached"
    opened = next(i for i in trail if i["kind"] == "created")
    assert opened["at"] == ticket["created_at"]
