"""A configuration's history follows the caller's client grants, ticket by ticket: a firewall moved
from one client to another keeps the old client's tickets, shown only to whom that client is granted."""

URL = "/api/v1/configurations"
EMPTY = {"last_worked_by": None, "last_worked_at": None, "ticket_count": 0, "tickets": []}


def tech(tenant, name: str, client):
    member = tenant.member("technician", grants=[client["id"]])
    assert tenant.api.patch(f"/api/v1/members/{member.id}", json={"name": name}).status_code == 200
    return member


def open_ticket(api, client, summary: str, configuration_ids: list) -> dict:
    body = {"client_id": client["id"], "summary": summary, "configuration_ids": configuration_ids}
    made = api.post("/api/v1/tickets", json=body)
    assert made.status_code == 201, made.json
    return made.json


def log_time(api, ticket, started_at: str) -> None:
    logged = api.post(f"/api/v1/tickets/{ticket['id']}/time-entries", json={"minutes": 30, "started_at": started_at})
    assert logged.status_code == 201, logged.json


def history_of(api, configuration_id) -> dict:
    response = api.get(f"{URL}/{configuration_id}/history")
    assert response.status_code == 200, response.json
    return response.json


def moved_firewall(psa, tenant):
    """Client X's firewall, worked on by Tom (granted X), then moved to client Y, which Yara is granted."""
    x, y = tenant.client("Dental Practice"), tenant.client("Law firm")
    tom, yara = tech(tenant, "Tom Tech", x), tech(tenant, "Yara Tech", y)
    psa.settle()
    firewall = tenant.api.post(URL, json={"client_id": x["id"], "type": "firewall", "name": "FW-01"}).json
    psa.settle()  # the tickets service learns the configuration
    vpn = open_ticket(tom.api, x, "VPN down at the practice", [firewall["id"]])
    log_time(tom.api, vpn, "2026-11-20T09:00:00Z")
    psa.settle()
    moved = tenant.api.patch(f"{URL}/{firewall['id']}", json={"client_id": y["id"]})
    assert moved.status_code == 200, moved.json
    psa.settle()
    return x, y, tom, yara, firewall, vpn


def test_firewall_moved_to_another_client_hides_the_old_clients_tickets(psa, tenant):
    x, y, tom, yara, firewall, vpn = moved_firewall(psa, tenant)
    assert yara.api.get(f"/api/v1/tickets/{vpn['id']}").status_code == 404
    assert history_of(yara.api, firewall["id"]) == {"configuration_id": firewall["id"], **EMPTY}
    seen = history_of(tenant.api, firewall["id"])  # the admin is granted every client
    assert seen["ticket_count"] == 1 and seen["tickets"][0]["ticket_id"] == vpn["id"]
    assert seen["last_worked_by"] == {"id": tom.id, "name": "Tom Tech"}
    for path in (f"{URL}/{firewall['id']}", f"{URL}/{firewall['id']}/history"):
        assert tom.api.get(path).status_code == 404  # it is Y's firewall now, and Tom is granted only X


def test_new_clients_work_on_the_moved_firewall_shows_for_its_tech(psa, tenant):
    x, y, tom, yara, firewall, vpn = moved_firewall(psa, tenant)
    rules = open_ticket(yara.api, y, "Firewall rules for the new office", [firewall["id"]])
    log_time(yara.api, rules, "2026-11-25T14:00:00Z")
    psa.settle()
    seen = history_of(yara.api, firewall["id"])
    assert seen["ticket_count"] == 1 and [t["ticket_id"] for t in seen["tickets"]] == [rules["id"]]
    assert seen["last_worked_by"] == {"id": yara.id, "name": "Yara Tech"}
    assert seen["last_worked_at"] == "2026-11-25T14:00:00Z"
    everything = history_of(tenant.api, firewall["id"])
    assert everything["ticket_count"] == 2 and everything["last_worked_by"]["name"] == "Yara Tech"


def test_history_recorded_before_clients_were_kept_shows_only_to_all_clients_members(psa, tenant):
    x, y, tom, yara, firewall, vpn = moved_firewall(psa, tenant)
    with psa.as_owner("docs_vault") as db, db.proxy.connection_context():
        db.proxy.execute_sql('ALTER TABLE "configurationactivity" DROP COLUMN client_id')  # as before 2026-11-27
    psa.service("docs_vault").bind(psa.settings)  # the next start adds it back, empty
    assert history_of(yara.api, firewall["id"]) == {"configuration_id": firewall["id"], **EMPTY}
    seen = history_of(tenant.api, firewall["id"])  # the admin is granted every client
    assert seen["ticket_count"] == 1 and seen["last_worked_by"]["name"] == "Tom Tech"
    rules = open_ticket(yara.api, y, "Firewall rules for the new office", [firewall["id"]])
    psa.settle()  # recorded with its client again
    assert [t["ticket_id"] for t in history_of(yara.api, firewall["id"])["tickets"]] == [rules["id"]]
