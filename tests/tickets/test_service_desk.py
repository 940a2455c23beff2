"""Tickets, time entries and notes as a service desk uses them, and the bad input it refuses."""

import datetime as dt
import json
import uuid

import pytest

from psa_shared import events
from psa_tickets.servicedesk import clock


def open_ticket(api, client_id, **fields):
    made = api.post("/api/v1/tickets", json={"client_id": client_id, "summary": "Printer jams", **fields})
    assert made.status_code == 201, made.json
    return made.json


def log(api, ticket_id, **fields):
    return api.post(f"/api/v1/tickets/{ticket_id}/time-entries", json={"minutes": 30, **fields})


def apply(psa, name, tenant_id, payload):
    """Deliver an event to the tickets service's consumer as the bus would."""
    consumer = next(c for c in psa.consumers() if c.service == "tickets")
    return consumer.apply(events.build(name, tenant_id, payload))


def outbox(psa, name):
    model = psa.service("tickets").outbox.model
    with model._meta.database.connection_context():
        return [json.loads(r.body) for r in model.select().where(model.type == name).order_by(model.created_at)]


def configuration(psa, tenant, client_id, name="Front desk PC", updated_at="2026-03-01T10:00:00Z", active=True):
    config_id = str(uuid.uuid4())
    payload = {"id": config_id, "client_id": client_id, "type": "workstation", "name": name, "active": active,
               "updated_at": updated_at}  # fmt: skip
    assert apply(psa, "configuration.created", tenant.id, payload)
    return payload


def test_new_tenant_gets_the_service_desk_board_with_its_statuses(tenant):
    boards = tenant.api.get("/api/v1/boards").json["items"]
    assert [(b["name"], b["is_default"]) for b in boards] == [("Service Desk", True)]
    statuses = tenant.api.get(f"/api/v1/boards/{boards[0]['id']}/statuses").json["items"]
    assert [(s["name"], s["kind"]) for s in statuses] == [
        ("New", "open"), ("In Progress", "open"), ("Scheduled", "open"),
        ("Waiting on Client", "waiting"), ("Resolved", "closed"), ("Closed", "closed"),
    ]  # fmt: skip
    assert statuses[0]["is_default"] and len(boards[0]["sla_targets"]) == 5


def test_ticket_numbers_run_per_tenant_and_start_in_new(tenant, other_tenant):
    client = tenant.client()
    first, second = open_ticket(tenant.api, client["id"]), open_ticket(tenant.api, client["id"])
    assert (first["number"], second["number"]) == (1, 2)
    assert open_ticket(other_tenant.api, other_tenant.client()["id"])["number"] == 1
    assert first["status"] == "New" and first["status_kind"] == "open" and first["priority"] == "P3"
    assert first["spent_minutes"] == 0 and first["breached"] is False


def test_ticket_list_filters_and_pages_newest_first(tenant):
    acme, river = tenant.client("Acme"), tenant.client("Riverside")
    tech = tenant.member("technician", all_clients=True)
    printer = open_ticket(tenant.api, acme["id"], summary="Printer jams", assignee_id=tech.id)
    vpn = open_ticket(tenant.api, river["id"], summary="VPN drops", priority="P1")
    email = open_ticket(tenant.api, acme["id"], summary="Email clean-out", status="Waiting on Client")

    def ids(query):
        response = tenant.api.get(f"/api/v1/tickets?{query}")
        assert response.status_code == 200, response.json
        return [t["id"] for t in response.json["items"]]

    assert ids("") == [email["id"], vpn["id"], printer["id"]]
    assert ids(f"client_id={acme['id']}") == [email["id"], printer["id"]]
    assert ids("status_kind=waiting") == [email["id"]]
    assert ids(f"assignee_id={tech.id}") == [printer["id"]]
    assert ids("assignee_id=unassigned") == [email["id"], vpn["id"]]
    assert ids("priority=P1") == [vpn["id"]]
    assert ids("q=VPN") == [vpn["id"]]
    assert ids("number=1") == [printer["id"]]
    first = tenant.api.get("/api/v1/tickets?limit=2").json
    rest = tenant.api.get(f"/api/v1/tickets?limit=2&after={first['next_cursor']}").json
    assert [t["id"] for t in first["items"] + rest["items"]] == [email["id"], vpn["id"], printer["id"]]
    assert rest["next_cursor"] is None
    assert tenant.api.get("/api/v1/tickets?assignee_id=someone").status_code == 422


def test_tech_sees_only_tickets_of_granted_clients(tenant):
    acme, river = tenant.client("Acme"), tenant.client("Riverside")
    tech = tenant.member("technician", grants=[acme["id"]])
    mine, theirs = open_ticket(tenant.api, acme["id"]), open_ticket(tenant.api, river["id"])
    assert [t["id"] for t in tech.api.get("/api/v1/tickets").json["items"]] == [mine["id"]]
    for path in ("", "/timeline", "/notes", "/time-entries", "/report.html"):
        assert tech.api.get(f"/api/v1/tickets/{theirs['id']}{path}").status_code == 404
    assert log(tech.api, theirs["id"]).status_code == 404
    assert tech.api.patch(f"/api/v1/tickets/{theirs['id']}", json={"priority": "P1"}).status_code == 404
    refused = tech.api.post("/api/v1/tickets", json={"client_id": river["id"], "summary": "x"})
    assert refused.status_code == 422 and "client_id" in refused.json["errors"]
    report = tech.api.get(f"/api/v1/clients/{river['id']}/activity-report.html?from=2020-01-01&to=2030-12-31")
    assert report.status_code == 404
    assert tenant.api.get(f"/api/v1/tickets/{theirs['id']}").json["priority"] == "P3"


def test_time_entries_keep_spent_minutes_on_create_edit_and_delete(tenant):
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    path = f"/api/v1/tickets/{ticket['id']}"
    first = log(tenant.api, ticket["id"], minutes=45, notes="Cleared the jam").json
    log(tenant.api, ticket["id"], minutes=0, billing="no_charge", notes="Called back")
    assert first["member_id"] == tenant.admin_id and first["billing"] == "billable"
    assert tenant.api.get(path).json["spent_minutes"] == 45
    edited = tenant.api.patch(f"{path}/time-entries/{first['id']}", json={"minutes": 90, "billing": "non_billable"})
    assert edited.status_code == 200 and edited.json["minutes"] == 90
    assert tenant.api.get(path).json["spent_minutes"] == 90
    assert tenant.api.delete(f"{path}/time-entries/{first['id']}").status_code == 204
    assert tenant.api.get(path).json["spent_minutes"] == 0
    assert [e["minutes"] for e in tenant.api.get(f"{path}/time-entries").json["items"]] == [0]
    assert tenant.api.get(f"{path}/time-entries/{first['id']}").status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"minutes": -1}, "minutes"),
        ({"minutes": 1441}, "minutes"),
        ({"minutes": 1.5}, "minutes"),
        ({"minutes": 10, "billing": "free"}, "billing"),
        ({"minutes": 10, "outcome": "maybe"}, "outcome"),
        ({"minutes": 10, "started_at": "2026-03-02T09:00:00"}, "started_at"),
        ({"minutes": 10, "invoice_id": "x"}, "invoice_id"),
    ],
)
def test_bad_time_entry_is_refused_naming_the_field_and_writes_nothing(tenant, psa, body, field):
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    refused = log(tenant.api, ticket["id"], **body)
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
    assert field in refused.json["errors"]
    assert tenant.api.get(f"/api/v1/tickets/{ticket['id']}/time-entries").json["items"] == []
    assert outbox(psa, "time_entry.logged") == []


def test_entry_for_a_member_of_another_tenant_is_refused(tenant, other_tenant, psa):
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    stranger = other_tenant.member("technician")
    refused = log(tenant.api, ticket["id"], member_id=stranger.id)
    assert refused.status_code == 422 and "member_id" in refused.json["errors"]
    assert tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json["spent_minutes"] == 0
    refused = tenant.api.patch(f"/api/v1/tickets/{ticket['id']}", json={"assignee_id": stranger.id})
    assert refused.status_code == 422 and "assignee_id" in refused.json["errors"]
    assert outbox(psa, "time_entry.logged") == []


def test_status_of_another_board_is_refused(tenant):
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    projects = tenant.api.post("/api/v1/boards", json={"name": "Projects"}).json
    tenant.api.post(f"/api/v1/boards/{projects['id']}/statuses", json={"name": "Design review", "kind": "open"})
    refused = tenant.api.patch(f"/api/v1/tickets/{ticket['id']}", json={"status": "Design review", "priority": "P1"})
    assert refused.status_code == 422 and "status" in refused.json["errors"]
    after = tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json
    assert (after["status"], after["priority"]) == ("New", "P3")
    assert [i["kind"] for i in tenant.api.get(f"/api/v1/tickets/{ticket['id']}/timeline").json["items"]] == ["created"]


def test_a_status_typed_in_another_case_is_the_boards_and_an_unknown_one_lists_them(tenant):
    """A script sends "waiting on client": that is "Waiting on Client" (names on a board are unique
    whatever their case); "waiting for client" is refused with the board's statuses to pick from."""
    client = tenant.client()
    ticket = open_ticket(tenant.api, client["id"])
    path = f"/api/v1/tickets/{ticket['id']}"
    moved = tenant.api.patch(path, json={"status": "waiting on client"})
    assert (moved.status_code, moved.json["status"]) == (200, "Waiting on Client"), moved.json
    made = tenant.api.post("/api/v1/tickets", json={"client_id": client["id"], "summary": "VPN", "status": "new"})
    assert (made.status_code, made.json["status"]) == (201, "New"), made.json
    for refused in (
        tenant.api.patch(path, json={"status": "waiting for client"}),
        tenant.api.post("/api/v1/tickets", json={"client_id": client["id"], "summary": "VPN", "status": "neu"}),
    ):
        assert refused.status_code == 422, refused.json
        message = refused.json["errors"]["status"][0]
        assert all(repr(name) in message for name in ("New", "In Progress", "Waiting on Client", "Closed")), message
    assert tenant.api.get(path).json["status"] == "Waiting on Client"
    assert len(tenant.api.get("/api/v1/tickets").json["items"]) == 2


def test_ticket_names_configurations_known_from_the_vault_only(tenant, other_tenant, psa):
    client = tenant.client()
    pc = configuration(psa, tenant, client["id"])
    foreign = configuration(psa, other_tenant, other_tenant.client()["id"], name="Their server")
    ticket = open_ticket(tenant.api, client["id"], configuration_ids=[pc["id"]])
    assert ticket["configuration_ids"] == [pc["id"]]
    refused = tenant.api.patch(f"/api/v1/tickets/{ticket['id']}", json={"configuration_ids": [foreign["id"]]})
    assert refused.status_code == 422 and "configuration_ids" in refused.json["errors"]
    refused = tenant.api.post("/api/v1/tickets", json={"client_id": client["id"], "summary": "x",
                                                       "configuration_ids": [foreign["id"]]})  # fmt: skip
    assert refused.status_code == 422 and "configuration_ids" in refused.json["errors"]
    assert tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json["configuration_ids"] == [pc["id"]]
    assert len(tenant.api.get("/api/v1/tickets").json["items"]) == 1


def test_stale_configuration_update_is_ignored_and_retired_ones_cannot_be_named(tenant, psa):
    client = tenant.client()
    pc = configuration(psa, tenant, client["id"], updated_at="2026-03-02T10:00:00Z")
    apply(psa, "configuration.updated", tenant.id, {**pc, "active": False, "updated_at": "2026-03-01T10:00:00Z"})
    assert open_ticket(tenant.api, client["id"], configuration_ids=[pc["id"]])["configuration_ids"] == [pc["id"]]
    apply(psa, "configuration.updated", tenant.id, {**pc, "active": False, "updated_at": "2026-03-03T10:00:00Z"})
    refused = tenant.api.post("/api/v1/tickets", json={"client_id": client["id"], "summary": "x",
                                                       "configuration_ids": [pc["id"]]})  # fmt: skip
    assert refused.status_code == 422


def test_an_entry_on_a_second_posted_invoice_stays_on_the_first(tenant, psa, caplog):
    client = tenant.client()
    ticket = open_ticket(tenant.api, client["id"])
    first, second = (log(tenant.api, ticket["id"], minutes=m).json for m in (60, 15))
    march, april = str(uuid.uuid4()), str(uuid.uuid4())
    for invoice, entries in ((march, [first["id"]]), (april, [first["id"], second["id"]])):
        posted = {"invoice_id": invoice, "number": "INV-1", "client_id": client["id"], "time_entry_ids": entries,
                  "total": "150.00", "currency": "USD"}  # fmt: skip
        apply(psa, "invoice.posted", tenant.id, posted)
    path = f"/api/v1/tickets/{ticket['id']}/time-entries"
    billed = {e["id"]: e["billed_invoice_id"] for e in tenant.api.get(path).json["items"]}
    assert billed == {first["id"]: march, second["id"]: april}
    assert f"time entry {first['id']} of invoice {april} is already on posted invoice {march}" in caplog.text


def test_billed_entry_cannot_be_edited_or_deleted(tenant, psa):
    client = tenant.client()
    ticket = open_ticket(tenant.api, client["id"])
    entry = log(tenant.api, ticket["id"], minutes=60, notes="Replaced toner").json
    posted = {"invoice_id": str(uuid.uuid4()), "number": "INV-1", "client_id": client["id"],
              "time_entry_ids": [entry["id"]], "total": "120.00", "currency": "USD"}  # fmt: skip
    apply(psa, "invoice.posted", tenant.id, posted)
    path = f"/api/v1/tickets/{ticket['id']}/time-entries/{entry['id']}"
    assert tenant.api.get(path).json["billed_invoice_id"] == posted["invoice_id"]
    refused = tenant.api.patch(path, json={"minutes": 1})
    assert refused.status_code == 409 and refused.content_type == "application/problem+json"
    assert "billed_invoice_id" in refused.json["errors"]
    assert tenant.api.delete(path).status_code == 409
    assert tenant.api.get(path).json["minutes"] == 60
    assert tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json["spent_minutes"] == 60


def test_events_carry_client_and_notes_but_never_internal_notes(tenant, psa):
    client = tenant.client()
    ticket = open_ticket(tenant.api, client["id"])
    log(tenant.api, ticket["id"], notes="Rebooted the router", internal_notes="Password on the sticker")
    tenant.api.patch(f"/api/v1/tickets/{ticket['id']}", json={"status": "In Progress", "priority": "P2"})
    logged = outbox(psa, "time_entry.logged")[-1]
    assert logged["payload"]["client_id"] == client["id"] and logged["payload"]["notes"] == "Rebooted the router"
    assert "Password" not in json.dumps(logged) and logged["payload"]["ticket_number"] == ticket["number"]
    assert outbox(psa, "ticket.created")[-1]["payload"]["id"] == ticket["id"]
    changed = outbox(psa, "ticket.status_changed")[-1]["payload"]
    assert (changed["old_status"], changed["status"]) == ("New", "In Progress")
    assert outbox(psa, "ticket.updated")[-1]["payload"]["priority"] == "P2"
    assert psa.settle() > 0


def test_first_client_visible_note_is_the_response_and_late_response_breaches(tenant):
    board = tenant.api.get("/api/v1/boards").json["items"][0]
    targets = [{"priority": "P1", "respond_minutes": 30, "resolve_minutes": 120}]
    assert tenant.api.patch(f"/api/v1/boards/{board['id']}", json={"sla_targets": targets}).status_code == 200
    monday = dt.datetime(2026, 3, 2, 9, 0)
    with clock.travel(monday):
        ticket = open_ticket(tenant.api, tenant.client()["id"], priority="P1")
    assert ticket["respond_due_at"] == "2026-03-02T09:30:00Z" and ticket["resolve_due_at"] == "2026-03-02T11:00:00Z"
    path = f"/api/v1/tickets/{ticket['id']}"
    with clock.travel(monday + dt.timedelta(minutes=20)):
        tenant.api.post(f"{path}/notes", json={"text": "Looking into it", "internal": True})
    with clock.travel(monday + dt.timedelta(minutes=45)):
        tenant.api.post(f"{path}/notes", json={"text": "On it, calling you now", "internal": False})
        late = tenant.api.get(path).json
    assert late["responded_at"] == "2026-03-02T09:45:00Z" and late["respond_breached"] and late["breached"]
    assert late["resolve_breached"] is False


def test_waiting_on_client_pauses_the_resolve_clock(tenant):
    monday = dt.datetime(2026, 3, 2, 9, 0)  # UTC tenant, 08:00-17:00
    with clock.travel(monday):
        ticket = open_ticket(tenant.api, tenant.client()["id"], priority="P3")  # resolve within 1440 business min
    path = f"/api/v1/tickets/{ticket['id']}"
    assert ticket["resolve_due_at"] == "2026-03-04T15:00:00Z"
    with clock.travel(monday + dt.timedelta(hours=1)):
        tenant.api.patch(path, json={"status": "Waiting on Client"})
    with clock.travel(monday + dt.timedelta(days=7)):
        assert tenant.api.get(path).json["resolve_breached"] is False  # paused, not late
        resumed = tenant.api.patch(path, json={"status": "In Progress"}).json
    assert resumed["resolve_due_at"] == "2026-03-11T14:00:00Z"  # pushed by the 44 business hours it waited


def test_notes_list_and_client_visibility(tenant):
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    path = f"/api/v1/tickets/{ticket['id']}/notes"
    assert tenant.api.post(path, json={"text": "Internal only"}).json["internal"] is True
    assert tenant.api.post(path, json={"text": "<b>Hello</b>", "internal": False}).status_code == 201
    assert [n["text"] for n in tenant.api.get(path).json["items"]] == ["<b>Hello</b>", "Internal only"]
    assert tenant.api.post(path, json={"text": ""}).status_code == 422
    page = tenant.api.get(f"/api/v1/tickets/{ticket['id']}/report.html").get_data(as_text=True)
    assert "&lt;b&gt;Hello&lt;/b&gt;" in page and "<b>Hello</b>" not in page and "Internal only" not in page


def test_client_activity_report_covers_the_dates_asked(tenant):
    client = tenant.client("Acme Dental")
    with clock.travel(dt.datetime(2026, 3, 2, 9, 0)):
        ticket = open_ticket(tenant.api, client["id"], summary="New laptop")
        log(tenant.api, ticket["id"], minutes=90, notes="Imaged the laptop", started_at="2026-03-02T10:00:00Z")
    log(tenant.api, ticket["id"], minutes=15, notes="Follow-up in April", started_at="2026-04-02T10:00:00Z")
    path = f"/api/v1/clients/{client['id']}/activity-report.html"
    page = tenant.api.get(f"{path}?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert "Imaged the laptop" in page and "Follow-up in April" not in page and "1:30" in page
    assert tenant.api.get(f"{path}?from=2026-03-31&to=2026-03-01").status_code == 422
    assert tenant.api.get(path).status_code == 422


def documented(psa, schema: str) -> dict:
    return psa.http.get("/openapi/tickets.json").json["components"]["schemas"][schema]["properties"]


def test_new_unassigned_ticket_and_unbilled_time_read_as_the_api_documents(tenant, psa):
    client = tenant.client("Dental Co")
    ticket = tenant.api.post("/api/v1/tickets", json={"client_id": client["id"], "summary": "Printer jams"}).json
    entry = tenant.api.post(f"/api/v1/tickets/{ticket['id']}/time-entries", json={"minutes": 10}).json
    ticket_fields, entry_fields = documented(psa, "Ticket"), documented(psa, "TimeEntry")
    for name in ("assignee_id", "contact_id", "closed_at", "responded_at"):
        assert ticket[name] is None and "null" in ticket_fields[name]["type"], name
    assert entry["billed_invoice_id"] is None and "null" in entry_fields["billed_invoice_id"]["type"]
    assert "null" in documented(psa, "TaskTimeEntry")["ticket_id"]["type"]


def test_patch_without_a_body_keeps_every_field_and_the_api_says_the_body_is_optional(tenant, psa):
    client = tenant.client("Dental Co")
    patched = tenant.api.patch(f"/api/v1/clients/{client['id']}").json
    assert patched | {"updated_at": None} == client | {"updated_at": None}
    paths = psa.http.get("/openapi/tickets.json").json["paths"]
    patches = [ops["patch"] for ops in paths.values() if "patch" in ops]
    assert patches and all(not op["requestBody"].get("required") for op in patches)


def test_the_trail_the_api_sends_is_the_trail_as_its_schema_dumps_it(tenant, psa):
    """The API sends the trail without the ORM or marshmallow (see servicedesk.timeline): the same
    items, in the same order, as `TimelineItem` dumps the trail the printable reports read."""
    from psa_shared.tenancy import tenant_scope
    from psa_shared.web import whole_list
    from psa_tickets.api.ticket_trail import Timeline
    from psa_tickets.servicedesk.models import Ticket
    from psa_tickets.servicedesk.timeline import AUDIENCES, timeline

    ticket = open_ticket(tenant.api, tenant.client()["id"], estimate_minutes=60)
    path = f"/api/v1/tickets/{ticket['id']}"
    at = "2026-03-02T09:00:00Z"
    assert log(tenant.api, ticket["id"], minutes=0, started_at=at, outcome="no_response", notes="Left voicemail.",
               internal_notes="Mailbox full.").status_code == 201  # fmt: skip
    assert log(tenant.api, ticket["id"], minutes=20, started_at=at, billing="no_charge").status_code == 201
    for change in ({"priority": "P4"}, {"estimate_minutes": 90}, {"status": "Waiting on Client"}):
        assert tenant.api.patch(path, json=change).status_code == 200
    for internal in (True, False):
        assert tenant.api.post(f"{path}/notes", json={"text": "Handout sent", "internal": internal}).status_code == 201
    with psa.service("tickets").db.proxy.connection_context(), tenant_scope(tenant.id):
        model = Ticket.get_by_id(ticket["id"])
        dumped = {audience: Timeline().dump(whole_list(timeline(model, audience))) for audience in AUDIENCES}
    for audience in AUDIENCES:
        sent = tenant.api.get(f"{path}/timeline?audience={audience}").json
        assert sent == dumped[audience]
    assert len(dumped["internal"]["items"]) == 8 and len(dumped["client"]["items"]) == 6
    assert dumped["internal"]["items"][0]["kind"] == "time_entry"  # 09:00, before the ticket was opened


def test_the_list_shows_each_ticket_as_the_ticket_itself_shows_it(tenant, psa):
    """The list dumps its rows without the ORM (see api.tickets._listed): same fields, same values."""
    client = tenant.client()
    pc, printer = configuration(psa, tenant, client["id"]), configuration(psa, tenant, client["id"], name="Printer")
    opened = [
        open_ticket(tenant.api, client["id"]),
        open_ticket(tenant.api, client["id"], priority="P1", description="Clean it out", estimate_minutes=90,
                    assignee_id=tenant.admin_id, configuration_ids=[printer["id"], pc["id"]]),
        open_ticket(tenant.api, client["id"], status="Waiting on Client"),
        open_ticket(tenant.api, client["id"], priority="P2"),
    ]  # fmt: skip
    assert log(tenant.api, opened[0]["id"], notes="Called client.").status_code == 201  # responded
    assert tenant.api.patch(f"/api/v1/tickets/{opened[3]['id']}", json={"status": "Closed"}).status_code == 200
    with clock.travel(dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=10)):
        listed = tenant.api.get("/api/v1/tickets").json["items"]
        shown = [tenant.api.get(f"/api/v1/tickets/{t['id']}").json for t in listed]
    assert listed == shown and len(listed) == 4
    assert {t["breached"] for t in listed} == {True, False}
    assert sorted(listed[2]["configuration_ids"]) == listed[2]["configuration_ids"] != []
