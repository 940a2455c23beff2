"""What a consumer (billing, a partner's plugin) learns from the service desk's events without
calling back: the ticket's description, a contact attempt's outcome, a deleted entry's project,
and the ticket's `updated_at` a note moved. Events sent before these fields existed are upcast."""

import uuid

from psa_shared import events
from psa_shared.events import Event

from .projects_seed import project, task
from .test_service_desk import log, open_ticket, outbox


def test_the_rewritten_description_reaches_consumers(tenant, psa):
    """The dispatcher rewrites "Printer jams" into what the client actually said; until 2026-11-28
    `ticket.updated` went out identical but for `updated_at`, and a partner's board kept the old text."""
    ticket = open_ticket(tenant.api, tenant.client("Acme")["id"], description="It jams")
    assert outbox(psa, "ticket.created")[-1]["payload"]["description"] == "It jams"

    edited = tenant.api.patch(f"/api/v1/tickets/{ticket['id']}", json={"description": "Tray 2 jams on A3 paper"})

    assert edited.status_code == 200, edited.json
    assert outbox(psa, "ticket.updated")[-1]["payload"]["description"] == "Tray 2 jams on A3 paper"


def test_voicemail_calls_reach_billing_as_contact_attempts(tenant, psa):
    """The tech logs a zero-minute call, "Left voicemail", then corrects it: she picked up after
    all. Billing prints each call on the invoice, and must tell the attempts from the work."""
    ticket = open_ticket(tenant.api, tenant.client("Acme")["id"], summary="Clean out my mailbox")
    voicemail = log(tenant.api, ticket["id"], minutes=0, outcome="no_response", notes="Called client. Left voicemail.")
    assert outbox(psa, "time_entry.logged")[-1]["payload"]["outcome"] == "no_response"

    path = f"/api/v1/tickets/{ticket['id']}/time-entries/{voicemail.json['id']}"
    assert tenant.api.patch(path, json={"outcome": "reached"}).status_code == 200  # she picked up after all

    assert outbox(psa, "time_entry.updated")[-1]["payload"]["outcome"] == "reached"
    log(tenant.api, ticket["id"], minutes=20)
    assert outbox(psa, "time_entry.logged")[-1]["payload"]["outcome"] is None  # work, not an attempt


def test_a_deleted_hour_on_the_office_move_names_its_project(tenant, psa):
    """Billing's draft for the office move holds an hour the tech then deletes as a duplicate:
    the delete names the project, as the entry's other events did, so billing finds the draft."""
    acme = tenant.client("Acme Dental")
    move = project(tenant.api, acme["id"], name="Office move")
    path = f"/api/v1/tasks/{task(tenant.api, move['id'], name='Cable 12 desks')['id']}/time-entries"
    twice = tenant.api.post(path, json={"minutes": 60}).json

    assert tenant.api.delete(f"{path}/{twice['id']}").status_code == 204

    assert outbox(psa, "time_entry.deleted")[-1]["payload"]["project_id"] == move["id"]
    printer = open_ticket(tenant.api, acme["id"])
    call = log(tenant.api, printer["id"]).json
    assert tenant.api.delete(f"/api/v1/tickets/{printer['id']}/time-entries/{call['id']}").status_code == 204
    assert outbox(psa, "time_entry.deleted")[-1]["payload"]["project_id"] is None


def test_a_note_tells_consumers_the_ticket_updated_at_it_moved(tenant, psa):
    """The tech emails the handout (a client-visible note) and jots an internal one. Each moves
    the ticket's `updated_at`, and its `note.created` says to what; no `ticket.updated` follows, as
    none of the fields that one carries changed. Until 2026-11-28 no event told the new `updated_at`,
    and a partner's copy of the ticket drifted from the API's."""
    ticket = open_ticket(tenant.api, tenant.client("Acme")["id"])
    path = f"/api/v1/tickets/{ticket['id']}"
    for text, internal in (("Emailed the handout", False), ("She sounded annoyed", True)):
        assert tenant.api.post(f"{path}/notes", json={"text": text, "internal": internal}).status_code == 201

        read = tenant.api.get(path).json
        assert outbox(psa, "note.created")[-1]["payload"]["ticket_updated_at"] == read["updated_at"]
    assert outbox(psa, "ticket.updated") == []


def _parsed(name, version, payload):
    return events.parse(Event(type=name, tenant_id=str(uuid.uuid4()), payload=payload, version=version))


TICKET_V1 = {"id": str(uuid.uuid4()), "number": 7, "client_id": str(uuid.uuid4()), "contact_id": None,
             "board_id": str(uuid.uuid4()), "status": "New", "status_kind": "open", "priority": "P3",
             "summary": "Printer jams", "assignee_id": None, "estimate_minutes": None, "configuration_ids": [],
             "created_at": "2026-11-02T09:00:00Z", "updated_at": "2026-11-02T09:00:00Z", "closed_at": None}  # fmt: skip
ENTRY_V1 = {"id": str(uuid.uuid4()), "ticket_id": None, "task_id": None, "project_id": None, "ticket_number": None,
            "client_id": str(uuid.uuid4()), "member_id": str(uuid.uuid4()), "started_at": "2026-11-02T09:00:00Z",
            "minutes": 0, "billing": "billable", "notes": "Called client. Left voicemail.", "work_type": None,
            "configuration_ids": [], "updated_at": "2026-11-02T09:05:00Z"}  # fmt: skip


def test_ticket_events_sent_before_the_description_read_as_naming_none():
    sent = {"ticket.created": TICKET_V1, "ticket.updated": TICKET_V1,
            "ticket.status_changed": {**TICKET_V1, "old_status": "New"}}  # fmt: skip
    for name, payload in sent.items():
        assert events.CATALOGUE[name].version == 2
        assert _parsed(name, 1, payload)["description"] is None


def test_time_entry_events_sent_before_the_outcome_read_as_no_outcome():
    for name in ("time_entry.logged", "time_entry.updated"):
        assert events.CATALOGUE[name].version == 3
        version_2 = {**ENTRY_V1, "revised_at": "2026-11-02T09:05:00Z"}
        assert _parsed(name, 2, version_2)["outcome"] is None
        read = _parsed(name, 1, ENTRY_V1)  # through both upcasters
        assert read["outcome"] is None and read["revised_at"] == ENTRY_V1["updated_at"]


def test_a_delete_sent_before_it_named_the_project_reads_as_naming_none():
    assert events.CATALOGUE["time_entry.deleted"].version == 2
    deleted = {"id": str(uuid.uuid4()), "ticket_id": None, "task_id": str(uuid.uuid4()), "client_id": str(uuid.uuid4())}
    assert _parsed("time_entry.deleted", 1, deleted)["project_id"] is None


def test_a_note_sent_before_it_named_the_ticket_updated_at_reads_as_moving_it_to_its_own_time():
    """A note has always moved its ticket's `updated_at` to the moment it was written."""
    assert events.CATALOGUE["note.created"].version == 2
    note = {"id": str(uuid.uuid4()), "ticket_id": TICKET_V1["id"], "ticket_number": 7, "client_id": str(uuid.uuid4()),
            "author_id": None, "internal": True, "text": None, "created_at": "2026-11-02T10:00:00Z"}  # fmt: skip
    assert _parsed("note.created", 1, note)["ticket_updated_at"] == "2026-11-02T10:00:00Z"
