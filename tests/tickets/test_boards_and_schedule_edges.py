"""Boards, statuses, SLA targets, notes and schedule entries at their edges, as an MSP meets them.

Each refusal is 422 problem+json naming the field, and writes nothing: no row, no event.
"""

import datetime as dt
import uuid

import pytest

from .projects_seed import events, project, task
from .test_service_desk import open_ticket


def boards_of(tenant) -> dict:
    return {b["name"]: b for b in tenant.api.get("/api/v1/boards").json["items"]}


def refused(response, field):
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    assert any(name.split(".")[0] == field for name in response.json["errors"]), response.json


def test_a_new_board_made_the_default_takes_over_from_the_service_desk(tenant):
    """The MSP opens a "Managed Services" board as its new default: tickets opened without a board
    land there, and the Service Desk is no longer marked default (one default board per tenant)."""
    made = tenant.api.post("/api/v1/boards", json={"name": "Managed Services", "is_default": True})
    assert made.status_code == 201, made.json
    assert {name: b["is_default"] for name, b in boards_of(tenant).items()} == {
        "Managed Services": True,
        "Service Desk": False,
    }
    assert open_ticket(tenant.api, tenant.client()["id"])["board_id"] == made.json["id"]


def test_the_default_board_cannot_be_unmarked_so_tickets_naming_no_board_keep_a_home(tenant):
    """An admin unticks "default" on the Service Desk: tickets opened without a board, and those the
    vault opens for a password to rotate, would have nowhere to go. Refused, naming `is_default`
    and saying what to do instead; making another board the default moves the mark."""
    desk = boards_of(tenant)["Service Desk"]
    path = f"/api/v1/boards/{desk['id']}"
    response = tenant.api.patch(path, json={"is_default": False, "name": "Old desk"})
    refused(response, "is_default")
    assert "make another board the default" in response.json["detail"]
    assert boards_of(tenant) == {"Service Desk": desk}
    assert open_ticket(tenant.api, tenant.client()["id"])["board_id"] == desk["id"]

    projects = tenant.api.post("/api/v1/boards", json={"name": "Projects"}).json
    assert tenant.api.patch(f"/api/v1/boards/{projects['id']}", json={"is_default": True}).status_code == 200
    assert {name: b["is_default"] for name, b in boards_of(tenant).items()} == {"Projects": True, "Service Desk": False}
    assert tenant.api.patch(path, json={"is_default": False}).status_code == 200  # already not the default
    refused(tenant.api.patch(f"/api/v1/boards/{projects['id']}", json={"is_default": False}), "is_default")
    assert boards_of(tenant)["Projects"]["is_default"] is True


def test_a_new_board_starts_without_sla_targets_so_its_tickets_have_no_due_times(tenant):
    """The MSP opens a "Projects" board and sets no targets: its tickets are on no SLA clock."""
    projects = tenant.api.post("/api/v1/boards", json={"name": "Projects"}).json
    assert projects["sla_targets"] == []
    ticket = open_ticket(tenant.api, tenant.client()["id"], board_id=projects["id"], priority="P1")
    assert (ticket["respond_due_at"], ticket["resolve_due_at"], ticket["breached"]) == (None, None, False)


def test_a_target_to_resolve_before_responding_is_refused_and_the_old_targets_stay(tenant):
    """Respond within 8 h but resolve within 1 h: the columns were swapped. Refused on a new board
    and on an existing one; the board keeps its targets."""
    swapped = [{"priority": "P1", "respond_minutes": 480, "resolve_minutes": 60}]
    refused(tenant.api.post("/api/v1/boards", json={"name": "NOC", "sla_targets": swapped}), "sla_targets")
    assert "NOC" not in boards_of(tenant)
    desk = boards_of(tenant)["Service Desk"]
    refused(tenant.api.patch(f"/api/v1/boards/{desk['id']}", json={"sla_targets": swapped}), "sla_targets")
    assert boards_of(tenant)["Service Desk"]["sla_targets"] == desk["sla_targets"]
    same = [{"priority": "P1", "respond_minutes": 60, "resolve_minutes": 60}]
    assert tenant.api.patch(f"/api/v1/boards/{desk['id']}", json={"sla_targets": same}).status_code == 200


def test_a_status_or_board_named_like_another_but_for_case_is_refused(tenant):
    """An admin adds "closed" (kind open) to a board that has "Closed": a dispatcher setting status
    "closed" would keep the ticket open. Names are unique per board whatever their case, and
    board names per tenant the same way."""
    desk = boards_of(tenant)["Service Desk"]
    path = f"/api/v1/boards/{desk['id']}/statuses"
    refused(tenant.api.post(path, json={"name": "closed", "kind": "open"}), "name")
    refused(tenant.api.post(path, json={"name": "WAITING ON CLIENT", "kind": "open"}), "name")
    assert len(tenant.api.get(path).json["items"]) == 6
    refused(tenant.api.post("/api/v1/boards", json={"name": "service desk"}), "name")
    projects = tenant.api.post("/api/v1/boards", json={"name": "Projects"}).json
    refused(tenant.api.patch(f"/api/v1/boards/{projects['id']}", json={"name": "SERVICE DESK"}), "name")
    assert sorted(boards_of(tenant)) == ["Projects", "Service Desk"]
    # a board keeps its own name in another case
    assert tenant.api.patch(f"/api/v1/boards/{projects['id']}", json={"name": "PROJECTS"}).status_code == 200


def test_a_technician_who_left_cannot_be_booked(tenant, psa):
    """Tom left last week. The dispatcher books him for Monday's server migration: refused, as a
    ticket or task cannot be handed to him (the availability report, which shows active members
    only, would never show the booking). A booking he already had can still be moved to Ann."""
    acme = tenant.client("Acme")
    tom, ann = (tenant.member("technician", grants=[acme["id"]]) for _ in range(2))
    ticket = open_ticket(tenant.api, acme["id"], summary="Server migration")
    monday = {"starts_at": "2026-03-02T08:00:00Z", "minutes": 240, "ticket_id": ticket["id"]}
    kept = tenant.api.post("/api/v1/schedule", json={"member_id": tom.id, **monday}).json
    assert tenant.api.post(f"/api/v1/members/{tom.id}/deactivate").status_code == 200
    before = len(events(psa, tenant, "schedule.created"))

    refused(tenant.api.post("/api/v1/schedule", json={"member_id": tom.id, **monday}), "member_id")
    assert [e["id"] for e in tenant.api.get("/api/v1/schedule").json["items"]] == [kept["id"]]
    assert len(events(psa, tenant, "schedule.created")) == before

    other = tenant.api.post("/api/v1/schedule", json={"member_id": ann.id, **monday}).json
    refused(tenant.api.patch(f"/api/v1/schedule/{other['id']}", json={"member_id": tom.id}), "member_id")
    assert tenant.api.get(f"/api/v1/schedule/{other['id']}").json["member_id"] == ann.id
    assert events(psa, tenant, "schedule.updated") == []

    # his own booking still moves in time, and is handed over to Ann
    moved = tenant.api.patch(f"/api/v1/schedule/{kept['id']}", json={"member_id": tom.id, "minutes": 120})
    assert moved.status_code == 200, moved.json
    handed = tenant.api.patch(f"/api/v1/schedule/{kept['id']}", json={"member_id": ann.id})
    assert handed.status_code == 200 and handed.json["member_id"] == ann.id


def test_a_booking_moves_between_a_ticket_and_a_task_and_bad_targets_write_nothing(tenant, psa):
    acme = tenant.client("Acme")
    ticket = open_ticket(tenant.api, acme["id"])
    cabling = task(tenant.api, project(tenant.api, acme["id"])["id"])
    body = {"member_id": tenant.admin_id, "starts_at": "2026-03-02T09:00:00+01:00", "minutes": 60}
    booked = tenant.api.post("/api/v1/schedule", json={**body, "ticket_id": ticket["id"]}).json
    assert booked["starts_at"] == "2026-03-02T08:00:00Z"
    path = f"/api/v1/schedule/{booked['id']}"
    for change, field in [
        ({"task_id": cabling["id"], "ticket_id": ticket["id"]}, "ticket_id"),  # both
        ({"ticket_id": None}, "ticket_id"),  # neither
        ({"minutes": 1441}, "minutes"),
        ({"starts_at": "2026-03-02T09:00:00"}, "starts_at"),  # no time zone
    ]:
        refused(tenant.api.patch(path, json=change), field)
    assert tenant.api.get(path).json == booked
    assert events(psa, tenant, "schedule.updated") == []
    moved = tenant.api.patch(path, json={"task_id": cabling["id"]}).json
    assert (moved["ticket_id"], moved["task_id"]) == (None, cabling["id"])
    assert events(psa, tenant, "schedule.updated")[-1]["task_id"] == cabling["id"]


def test_a_blank_client_visible_note_is_refused_and_is_not_the_response(tenant, psa):
    """A note of only spaces says nothing to the client: it must not stop the SLA respond clock."""
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    path = f"/api/v1/tickets/{ticket['id']}"
    for text in ("   ", "\n\t "):
        refused(tenant.api.post(f"{path}/notes", json={"text": text, "internal": False}), "text")
    assert tenant.api.get(f"{path}/notes").json["items"] == []
    after = tenant.api.get(path).json
    assert after["responded_at"] is None and after["updated_at"] == ticket["updated_at"]
    assert tenant.api.post(f"{path}/notes", json={"text": " On it ", "internal": False}).status_code == 201
    assert tenant.api.get(path).json["responded_at"] is not None


def test_a_board_or_status_name_padded_with_spaces_is_the_name_without_them(tenant):
    """A board "SERVICE DESK " beside "Service Desk", or a status "NEW " beside "New", got past the
    unique-whatever-the-case rule on the trailing space. Names are trimmed on the way in, and
    compared with casefold() ("STRASSE" is "Straße")."""
    desk = boards_of(tenant)["Service Desk"]
    refused(tenant.api.post("/api/v1/boards", json={"name": "SERVICE DESK "}), "name")
    statuses = f"/api/v1/boards/{desk['id']}/statuses"
    refused(tenant.api.post(statuses, json={"name": "NEW ", "kind": "open"}), "name")
    refused(tenant.api.post(statuses, json={"name": "   ", "kind": "open"}), "name")
    made = tenant.api.post("/api/v1/boards", json={"name": "  Straße  "})
    assert made.status_code == 201 and made.json["name"] == "Straße"
    refused(tenant.api.post("/api/v1/boards", json={"name": "STRASSE"}), "name")
    refused(tenant.api.patch(f"/api/v1/boards/{made.json['id']}", json={"name": "Service desk\t"}), "name")
    assert sorted(boards_of(tenant)) == ["Service Desk", "Straße"]
    assert [s["name"] for s in tenant.api.get(statuses).json["items"]].count("New") == 1
    # a ticket's status is named as the statuses are stored
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    moved = tenant.api.patch(f"/api/v1/tickets/{ticket['id']}", json={"status": "In Progress "})
    assert moved.status_code == 200 and moved.json["status"] == "In Progress", moved.json


def test_a_booking_that_would_end_after_the_year_9999_is_refused_naming_what_was_sent(tenant, psa):
    """Booked at 9999-12-31 23:00 for two hours, the entry was stored, and moving its project to
    another client then answered 500 adding the minutes to the start."""
    acme = tenant.client("Acme")
    cabling = task(tenant.api, project(tenant.api, acme["id"])["id"])
    body = {"member_id": tenant.admin_id, "task_id": cabling["id"]}
    refused(
        tenant.api.post("/api/v1/schedule", json={**body, "starts_at": "9999-12-31T23:00:00Z", "minutes": 120}),
        "starts_at",
    )
    last = tenant.api.post("/api/v1/schedule", json={**body, "starts_at": "9999-12-31T22:00:00Z", "minutes": 60})
    assert last.status_code == 201, last.json
    path = f"/api/v1/schedule/{last.json['id']}"
    refused(tenant.api.patch(path, json={"minutes": 120}), "minutes")
    refused(tenant.api.patch(path, json={"starts_at": "9999-12-31T23:30:00Z"}), "starts_at")
    assert tenant.api.get(path).json == last.json
    assert events(psa, tenant, "schedule.updated") == []


def test_a_project_holding_a_booking_stored_ending_past_9999_still_moves_to_another_client(tenant, psa):
    # written before such bookings were refused: the move reads it as not over, as it is not
    from psa_tickets.projects.models import ScheduleEntry

    from .projects_seed import in_tenant

    acme, globex = tenant.client("Acme"), tenant.client("Globex")
    office = project(tenant.api, acme["id"])
    cabling = task(tenant.api, office["id"])
    with in_tenant(psa, tenant):
        ScheduleEntry.create(
            member=tenant.admin_id, task=cabling["id"], starts_at=dt.datetime(9999, 12, 31, 23), minutes=120
        )
    moved = tenant.api.patch(f"/api/v1/projects/{office['id']}", json={"client_id": globex["id"]})
    assert moved.status_code == 200, moved.json


def test_a_schedule_window_ending_before_it_starts_is_refused_naming_to(tenant):
    response = tenant.api.get("/api/v1/schedule?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z")
    refused(response, "to")
    assert response.json["errors"] == {"to": ["must not be before 'from'"]}
    assert tenant.api.get("/api/v1/schedule?from=2026-12-01T00:00:00Z&to=2026-12-01T00:00:00Z").status_code == 200


def test_the_schedule_reads_like_a_calendar_earliest_start_first_page_by_page(tenant):
    """The dispatcher books Friday first, then Monday twice at 9:00 and Wednesday. Asked for the
    week, the schedule lists Monday to Friday (until 2026-11-28 the newest booking first: Wednesday,
    Monday, Monday, Friday), and one booking a page walks the same order, both 9:00 bookings once."""
    acme = tenant.client("Acme")
    ticket = open_ticket(tenant.api, acme["id"], summary="Office rewiring")

    def book(starts_at):
        body = {"member_id": tenant.admin_id, "starts_at": starts_at, "minutes": 60, "ticket_id": ticket["id"]}
        made = tenant.api.post("/api/v1/schedule", json=body)
        assert made.status_code == 201, made.json
        return made.json["id"]

    friday = book("2026-03-06T09:00:00Z")
    monday = sorted([book("2026-03-02T09:00:00Z"), book("2026-03-02T09:00:00Z")])
    wednesday = book("2026-03-04T09:00:00+01:00")
    week = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-09T00:00:00Z"}
    listed = tenant.api.get("/api/v1/schedule", query_string=week).json
    assert [e["id"] for e in listed["items"]] == [*monday, wednesday, friday]
    assert listed["next_cursor"] is None

    walked, cursor = [], None
    while cursor != "":
        page = tenant.api.get(
            "/api/v1/schedule", query_string={**week, "limit": 1, **({"after": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.json
        walked += [e["id"] for e in page.json["items"]]
        cursor = page.json["next_cursor"] or ""
    assert walked == [*monday, wednesday, friday]
    refused(tenant.api.get("/api/v1/schedule", query_string={"after": "WyJub3QgYSB0aW1lIl0"}), "after")


@pytest.mark.parametrize("action", ["resize", "delete"])
def test_a_booking_another_dispatcher_deleted_meanwhile_is_not_found(tenant, psa, action):
    """Two dispatchers clear Monday's calendar at once: the one whose booking went from under her
    hears 404, as a moment later (until 2026-11-28 a 500 on PostgreSQL)."""
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    booking = {"member_id": tenant.admin_id, "ticket_id": ticket["id"], "starts_at": "2026-12-07T09:00:00Z"}
    booked = tenant.api.post("/api/v1/schedule", json={**booking, "minutes": 60}).json
    path = f"/api/v1/schedule/{booked['id']}"
    deleted = ("DELETE FROM scheduleentry WHERE id = %s", (uuid.UUID(booked["id"]),))
    send = {"resize": lambda: tenant.api.patch(path, json={"minutes": 90}), "delete": lambda: tenant.api.delete(path)}
    answer = psa.meanwhile("tickets", [deleted], send[action])
    assert answer.status_code == 404 and answer.content_type == "application/problem+json", answer.json
    assert events(psa, tenant, "schedule.updated") == events(psa, tenant, "schedule.deleted") == []
