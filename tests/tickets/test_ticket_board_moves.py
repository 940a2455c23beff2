"""A ticket filed on the wrong board: the dispatcher moves it where it belongs. Its status follows
by name (or kind), its SLA is the new board's, its wait goes on, and the trail records the move
for the MSP without telling the client."""

import datetime as dt

import pytest

from psa_tickets.servicedesk import clock

from .test_service_desk import log, open_ticket

MONDAY_9 = dt.datetime(2026, 3, 2, 9, 0)


def board(tenant, name, **fields):
    made = tenant.api.post("/api/v1/boards", json={"name": name, **fields})
    assert made.status_code == 201, made.json
    return made.json


def move(api, ticket, **fields):
    return api.patch(f"/api/v1/tickets/{ticket['id']}", json=fields)


def kinds(tenant, ticket, audience="internal"):
    items = tenant.api.get(f"/api/v1/tickets/{ticket['id']}/timeline?audience={audience}").json["items"]
    return [(item["kind"], item["text"]) for item in items]


def test_a_ticket_moved_to_the_projects_board_keeps_its_status_by_name_and_takes_that_boards_sla(tenant, psa):
    projects = board(
        tenant, "Projects", sla_targets=[{"priority": "P3", "respond_minutes": 600, "resolve_minutes": 6000}]
    )
    client = tenant.client()["id"]
    with clock.travel(MONDAY_9):
        ticket = open_ticket(tenant.api, client, priority="P3")
        filed_right = open_ticket(tenant.api, client, priority="P3", board_id=projects["id"])
        moved = move(tenant.api, ticket, board_id=projects["id"])
    assert moved.status_code == 200, moved.json
    assert (moved.json["board_id"], moved.json["status"], moved.json["status_kind"]) == (projects["id"], "New", "open")
    due = ("respond_due_at", "resolve_due_at")
    assert [moved.json[d] for d in due] == [filed_right[d] for d in due] != [ticket[d] for d in due]
    assert kinds(tenant, ticket)[-1] == ("board", "Moved from board Service Desk to Projects")
    assert "board" not in [kind for kind, _ in kinds(tenant, ticket, "client")]  # the client never heard of boards
    assert "status" not in [kind for kind, _ in kinds(tenant, ticket)]  # "New" is still "New"
    assert psa.emitted("ticket.updated")[-1].payload["board_id"] == projects["id"]
    assert psa.emitted("ticket.status_changed") == []
    by_board = {row["board_id"]: row for row in tenant.api.get("/api/v1/reports/backlog").json["by_board"]}
    assert projects["id"] in by_board


def test_a_ticket_waiting_on_the_client_still_waits_after_the_move_and_its_calls_still_count(tenant):
    attempts = {"autoclose_attempts": 2}
    board(tenant, "Escalations", **attempts)
    escalations = next(b for b in tenant.api.get("/api/v1/boards").json["items"] if b["name"] == "Escalations")
    waiting_there = tenant.api.post(
        f"/api/v1/boards/{escalations['id']}/statuses", json={"name": "Awaiting customer", "kind": "waiting"}
    )
    assert waiting_there.status_code == 201, waiting_there.json
    ticket = open_ticket(tenant.api, tenant.client()["id"], status="Waiting on Client")
    assert log(tenant.api, ticket["id"], minutes=0, outcome="no_response").status_code == 201
    moved = move(tenant.api, ticket, board_id=escalations["id"])
    assert (moved.json["status"], moved.json["status_kind"]) == ("Waiting on Client", "waiting")  # the same name there
    assert log(tenant.api, ticket["id"], minutes=0, outcome="no_response").status_code == 201
    assert tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json["status_kind"] == "closed"  # 2 calls since waiting


def test_a_status_named_with_the_move_is_the_new_boards(tenant):
    onsite = board(tenant, "Onsite")
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    moved = move(tenant.api, ticket, board_id=onsite["id"], status="scheduled")
    assert (moved.json["board_id"], moved.json["status"]) == (onsite["id"], "Scheduled")
    assert kinds(tenant, ticket)[-2:] == [
        ("board", "Moved from board Service Desk to Onsite"),
        ("status", "Status changed from New to Scheduled"),
    ]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"status": "Triage"}, "status"),  # a status the new board does not have
        ({"board_id": None}, "board_id"),
    ],
)
def test_a_move_refused_names_the_field_and_leaves_the_ticket_where_it_was(tenant, psa, fields, field):
    onsite = board(tenant, "Onsite")
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    refused = move(tenant.api, ticket, **{"board_id": onsite["id"], **fields})
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
    assert field in refused.json["errors"]
    after = tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json
    assert (after["board_id"], after["status"]) == (ticket["board_id"], "New")
    assert [kind for kind, _ in kinds(tenant, ticket)] == ["created"] and psa.emitted("ticket.updated") == []


def test_another_tenants_board_is_not_found_and_their_admin_cannot_move_ours(tenant, other_tenant):
    theirs = board(other_tenant, "Their projects")
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    refused = move(tenant.api, ticket, board_id=theirs["id"])
    assert refused.status_code == 422 and refused.json["errors"] == {"board_id": ["board not found"]}
    assert move(other_tenant.api, ticket, board_id=theirs["id"]).status_code == 404
    assert tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json["board_id"] == ticket["board_id"]


def test_a_technician_without_the_clients_grant_cannot_move_its_ticket(tenant):
    onsite = board(tenant, "Onsite")
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    outsider = tenant.member("technician", grants=[tenant.client()["id"]])
    assert move(outsider.api, ticket, board_id=onsite["id"]).status_code == 404
