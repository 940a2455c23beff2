"""Configuration history from the tickets service's events: who last worked on that PC, and how
many tickets that switch has had, and when."""

import uuid

from psa_docs_vault import history
from psa_docs_vault.history import ConfigurationActivity
from psa_shared.auth import MemberView, Principal
from psa_shared.events import Event
from psa_shared.tenancy import current_tenant, tenant_scope

URL = "/api/v1/configurations"


def every_client() -> Principal:
    """An admin of the tenant in context who sees every client (these stories call the projection directly)."""
    admin = MemberView(id=None, tenant_id=current_tenant(), role="admin", active=True, stamp="", all_clients=True)
    return Principal(admin)


def named_tech(psa, tenant, name: str, grants=None):
    tech = tenant.member("technician", grants=grants, all_clients=None if grants else True)
    assert tenant.api.patch(f"/api/v1/members/{tech.id}", json={"name": name}).status_code == 200
    return tech


def configuration(tenant, client, kind: str, name: str) -> dict:
    made = tenant.api.post(URL, json={"client_id": client["id"], "type": kind, "name": name})
    assert made.status_code == 201, made.json
    return made.json


def open_ticket(api, client, summary: str, configuration_ids: list) -> dict:
    made = api.post(
        "/api/v1/tickets", json={"client_id": client["id"], "summary": summary, "configuration_ids": configuration_ids}
    )
    assert made.status_code == 201, made.json
    return made.json


def log_time(api, ticket, started_at: str, minutes: int = 30) -> dict:
    made = api.post(f"/api/v1/tickets/{ticket['id']}/time-entries", json={"minutes": minutes, "started_at": started_at})
    assert made.status_code == 201, made.json
    return made.json


def history_of(api, configuration_id) -> dict:
    response = api.get(f"{URL}/{configuration_id}/history")
    assert response.status_code == 200, response.json
    return response.json


def test_history_names_who_last_worked_on_the_reception_pc(psa, tenant):
    client = tenant.client("Dental Practice")
    tom, anna = named_tech(psa, tenant, "Tom Tech"), named_tech(psa, tenant, "Anna Admin")
    psa.settle()
    pc = configuration(tenant, client, "workstation", "PC-RECEPTION")
    printer = configuration(tenant, client, "printer", "Reception printer")
    psa.settle()  # the tickets service learns the configurations
    assert history_of(tenant.api, pc["id"]) == {
        "configuration_id": pc["id"],
        "last_worked_by": None,
        "last_worked_at": None,
        "ticket_count": 0,
        "tickets": [],
    }
    slow = open_ticket(tom.api, client, "PC is slow", [pc["id"]])
    log_time(tom.api, slow, "2026-11-02T09:00:00Z")
    log_time(anna.api, slow, "2026-11-03T14:30:00Z")
    log_time(tom.api, slow, "2026-11-02T16:00:00Z")  # logged later, worked earlier
    paper = open_ticket(tom.api, client, "Printer jams", [printer["id"]])
    log_time(tom.api, paper, "2026-11-05T10:00:00Z")  # another device: not the PC's history
    psa.settle()
    seen = history_of(tenant.api, pc["id"])
    assert seen["last_worked_by"] == {"id": anna.id, "name": "Anna Admin"}
    assert seen["last_worked_at"] == "2026-11-03T14:30:00Z"
    assert seen["ticket_count"] == 1 and seen["tickets"][0]["number"] == slow["number"]
    assert history_of(tenant.api, printer["id"])["last_worked_by"]["name"] == "Tom Tech"


def test_history_counts_the_switchs_tickets_and_when_they_opened_and_closed(psa, tenant):
    client = tenant.client("Law firm")
    psa.settle()
    switch = configuration(tenant, client, "switch", "SW-core")
    firewall = configuration(tenant, client, "firewall", "FW-01")
    psa.settle()
    first = open_ticket(tenant.api, client, "Port 12 flapping", [switch["id"]])
    second = open_ticket(tenant.api, client, "VLAN 20 missing", [switch["id"], firewall["id"]])
    third = open_ticket(tenant.api, client, "Firmware update", [switch["id"]])
    open_ticket(tenant.api, client, "VPN down", [firewall["id"]])
    closed = tenant.api.patch(f"/api/v1/tickets/{first['id']}", json={"status": "Closed"})
    assert closed.status_code == 200, closed.json
    moved = tenant.api.patch(f"/api/v1/tickets/{third['id']}", json={"configuration_ids": [firewall["id"]]})
    assert moved.status_code == 200, moved.json  # the firmware ticket turned out to be the firewall's
    psa.settle()
    seen = history_of(tenant.api, switch["id"])
    assert seen["ticket_count"] == 2
    by_number = {t["number"]: t for t in seen["tickets"]}
    assert set(by_number) == {first["number"], second["number"]}
    assert by_number[first["number"]]["summary"] == "Port 12 flapping"
    assert by_number[first["number"]]["closed_at"] is not None
    assert by_number[second["number"]]["closed_at"] is None
    assert all(t["opened_at"].endswith("Z") for t in seen["tickets"])
    assert [t["number"] for t in seen["tickets"]] == [second["number"], first["number"]]  # newest first
    assert history_of(tenant.api, firewall["id"])["ticket_count"] == 3


def test_reopening_a_ticket_clears_its_closed_time(psa, tenant):
    client = tenant.client()
    psa.settle()
    server = configuration(tenant, client, "server", "DC01")
    psa.settle()
    ticket = open_ticket(tenant.api, client, "Backups failing", [server["id"]])
    tenant.api.patch(f"/api/v1/tickets/{ticket['id']}", json={"status": "Closed"})
    psa.settle()
    assert history_of(tenant.api, server["id"])["tickets"][0]["closed_at"] is not None
    tenant.api.patch(f"/api/v1/tickets/{ticket['id']}", json={"status": "In Progress"})
    psa.settle()
    assert history_of(tenant.api, server["id"])["tickets"][0]["closed_at"] is None


def test_deleted_time_entry_no_longer_counts_as_the_last_work(psa, tenant):
    client = tenant.client()
    tom, anna = named_tech(psa, tenant, "Tom Tech"), named_tech(psa, tenant, "Anna Admin")
    psa.settle()
    pc = configuration(tenant, client, "workstation", "PC-01")
    psa.settle()
    ticket = open_ticket(tom.api, client, "Outlook crashes", [pc["id"]])
    log_time(tom.api, ticket, "2026-11-02T09:00:00Z")
    mistaken = log_time(anna.api, ticket, "2026-11-04T09:00:00Z")
    psa.settle()
    assert history_of(tenant.api, pc["id"])["last_worked_by"]["name"] == "Anna Admin"
    gone = anna.api.delete(f"/api/v1/tickets/{ticket['id']}/time-entries/{mistaken['id']}")
    assert gone.status_code == 204
    psa.settle()
    assert history_of(tenant.api, pc["id"])["last_worked_by"]["name"] == "Tom Tech"


def test_history_limit_is_bounded(psa, tenant):
    client = tenant.client()
    psa.settle()
    server = configuration(tenant, client, "server", "DC01")
    psa.settle()
    for n in range(3):
        open_ticket(tenant.api, client, f"Alert {n}", [server["id"]])
    psa.settle()
    page = tenant.api.get(f"{URL}/{server['id']}/history", query_string={"limit": 2}).json
    assert page["ticket_count"] == 3 and len(page["tickets"]) == 2
    for bad in ({"limit": 0}, {"limit": 201}, {"limit": "x"}):
        refused = tenant.api.get(f"{URL}/{server['id']}/history", query_string=bad)
        assert refused.status_code == 422 and refused.content_type == "application/problem+json"


# --- the handlers alone: idempotent and tolerant of order ---------------------------------------


def _time_entry(entry_id, configuration_id, member_id, started_at: str, updated_at: str) -> dict:
    return {
        "id": entry_id,
        "ticket_id": uuid.UUID(int=1),
        "ticket_number": 7,
        "member_id": member_id,
        "started_at": started_at,
        "configuration_ids": [configuration_id],
        "updated_at": updated_at,
        "revised_at": updated_at,
    }


def apply(psa, tenant_id, handler, payload):
    db = psa.service("docs_vault").db.proxy
    with db.connection_context(), db.atomic(), tenant_scope(tenant_id):
        handler(Event(type="test", tenant_id=str(tenant_id), payload={}), payload)


def activity(psa, tenant_id) -> list[tuple]:
    with psa.service("docs_vault").db.proxy.connection_context(), tenant_scope(tenant_id):
        return [(r.source_id, r.configuration_id, r.member_id, r.at) for r in ConfigurationActivity.select()]


def test_redelivered_and_late_time_entry_events_leave_the_newest_state(psa):
    tenant_id, pc, other_pc = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    entry, tom, anna = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    logged = _time_entry(entry, pc, tom, "2026-11-02T09:00:00Z", "2026-11-02T09:30:00Z")
    edited = _time_entry(entry, other_pc, anna, "2026-11-02T10:00:00Z", "2026-11-02T11:00:00Z")
    apply(psa, tenant_id, history.on_time_entry, edited)  # the edit overtakes the original
    apply(psa, tenant_id, history.on_time_entry, logged)
    apply(psa, tenant_id, history.on_time_entry, edited)  # and is delivered twice
    (row,) = activity(psa, tenant_id)
    assert row[0] == entry and row[1] == other_pc and row[2] == anna
    apply(psa, tenant_id, history.on_time_entry_deleted, {"id": entry})
    apply(psa, tenant_id, history.on_time_entry, edited)  # a late copy does not bring it back
    assert activity(psa, tenant_id) == []


def test_ticket_events_out_of_order_keep_the_latest_configurations(psa):
    tenant_id, ticket, switch, firewall = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def payload(configuration_ids, updated_at, closed_at=None):
        return {
            "id": ticket,
            "number": 12,
            "summary": "Port flapping",
            "configuration_ids": configuration_ids,
            "created_at": "2026-11-01T08:00:00Z",
            "updated_at": updated_at,
            "closed_at": closed_at,
        }

    newest = payload([firewall], "2026-11-01T12:00:00Z", closed_at="2026-11-01T12:00:00Z")
    apply(psa, tenant_id, history.on_ticket, newest)
    apply(psa, tenant_id, history.on_ticket, payload([switch, firewall], "2026-11-01T08:00:00Z"))
    apply(psa, tenant_id, history.on_ticket, newest)
    with psa.service("docs_vault").db.proxy.connection_context(), tenant_scope(tenant_id):
        assert history.configuration_history(every_client(), switch)["ticket_count"] == 0
        seen = history.configuration_history(every_client(), firewall)
    assert seen["ticket_count"] == 1 and seen["tickets"][0]["closed_at"] is not None


def test_history_of_one_tenant_never_mixes_with_another(psa):
    first, second, pc = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    apply(
        psa,
        first,
        history.on_time_entry,
        _time_entry(uuid.uuid4(), pc, uuid.uuid4(), "2026-11-02T09:00:00Z", "2026-11-02T09:00:00Z"),
    )
    with psa.service("docs_vault").db.proxy.connection_context(), tenant_scope(second):
        assert history.configuration_history(every_client(), pc)["last_worked_by"] is None
