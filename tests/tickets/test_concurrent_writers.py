"""Two writers on one row at once: billing's consumer, a time-entry edit, an admin's change. The
one that commits second works from what the first wrote, never from what it read before, and
never writes back a column it did not change (on PostgreSQL both run at once; on SQLite they
take turns, and the same promises hold)."""

import datetime as dt
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from psa_shared.tenancy import tenant_scope
from psa_tickets.servicedesk.models import ConfigurationRef

from .projects_seed import project, task
from .test_service_desk import apply, configuration, log, open_ticket


def _posted(invoice: uuid.UUID, entry: dict) -> tuple:
    """Billing's `invoice.posted` as the consumer writes it, for one entry."""
    return ("UPDATE timeentry SET billed_invoice_id = %s WHERE id = %s", (invoice, uuid.UUID(entry["id"])))


def test_an_entry_billed_while_the_tech_edits_it_refuses_the_edit(tenant, psa):
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    entry = log(tenant.api, ticket["id"], minutes=60, notes="Replaced toner").json
    path = f"/api/v1/tickets/{ticket['id']}/time-entries/{entry['id']}"
    invoice = uuid.uuid4()

    edited = psa.meanwhile("tickets", [_posted(invoice, entry)], lambda: tenant.api.patch(path, json={"minutes": 90}))

    assert edited.status_code == 409, edited.json
    after = tenant.api.get(path).json
    assert (after["minutes"], after["billed_invoice_id"]) == (60, str(invoice))
    assert tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json["spent_minutes"] == 60


def test_an_entry_billed_while_the_tech_deletes_it_stays(tenant, psa):
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    entry = log(tenant.api, ticket["id"], minutes=45).json
    path = f"/api/v1/tickets/{ticket['id']}/time-entries/{entry['id']}"

    deleted = psa.meanwhile("tickets", [_posted(uuid.uuid4(), entry)], lambda: tenant.api.delete(path))

    assert deleted.status_code == 409
    assert tenant.api.get(path).json["minutes"] == 45
    assert tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json["spent_minutes"] == 45


def test_two_edits_of_one_entry_at_once_leave_the_ticket_spent_minutes_equal_to_its_entries(tenant, psa):
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    entry = log(tenant.api, ticket["id"], minutes=10).json
    path = f"/api/v1/tickets/{ticket['id']}/time-entries/{entry['id']}"
    other_edit = [  # another tech's edit from 10 to 20 minutes, as the service writes it
        ("UPDATE timeentry SET minutes = 20 WHERE id = %s", (uuid.UUID(entry["id"]),)),
        ("UPDATE ticket SET spent_minutes = spent_minutes + 10 WHERE id = %s", (uuid.UUID(ticket["id"]),)),
    ]

    edited = psa.meanwhile("tickets", other_edit, lambda: tenant.api.patch(path, json={"minutes": 30}))

    assert edited.status_code == 200, edited.json
    assert tenant.api.get(path).json["minutes"] == 30
    assert tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json["spent_minutes"] == 30


def test_an_engineer_deactivated_while_an_admin_renames_them_stays_deactivated(tenant, psa):
    leaving = tenant.member("technician", all_clients=True)
    deactivation = ("UPDATE member SET active = %s, stamp = %s WHERE id = %s", (False, "0" * 32, uuid.UUID(leaving.id)))

    renamed = psa.meanwhile(
        "tickets",
        [deactivation],
        lambda: tenant.api.patch(f"/api/v1/members/{leaving.id}", json={"name": "Sam (left)"}),
    )

    assert renamed.status_code == 200, renamed.json
    member = tenant.api.get(f"/api/v1/members/{leaving.id}").json
    assert (member["name"], member["active"]) == ("Sam (left)", False)
    assert leaving.api.get("/api/v1/tickets").status_code == 401  # the token died with the old stamp


def test_time_logged_on_a_task_while_it_is_renamed_still_counts(tenant, psa):
    cabling = task(tenant.api, project(tenant.api, tenant.client()["id"])["id"], estimate_minutes=480)
    logged = ("UPDATE task SET spent_minutes = spent_minutes + 45 WHERE id = %s", (uuid.UUID(cabling["id"]),))

    renamed = psa.meanwhile(
        "tickets", [logged], lambda: tenant.api.patch(f"/api/v1/tasks/{cabling['id']}", json={"name": "Cable 14 desks"})
    )

    assert renamed.status_code == 200, renamed.json
    after = tenant.api.get(f"/api/v1/tasks/{cabling['id']}").json
    assert (after["name"], after["spent_minutes"]) == ("Cable 14 desks", 45)


def test_a_call_that_would_auto_close_a_ticket_the_dispatcher_just_moved_leaves_it_moved(tenant, psa):
    board = tenant.api.get("/api/v1/boards").json["items"][0]
    assert tenant.api.patch(f"/api/v1/boards/{board['id']}", json={"autoclose_attempts": 2}).status_code == 200
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    path = f"/api/v1/tickets/{ticket['id']}"
    assert tenant.api.patch(path, json={"status": "Waiting on Client"}).status_code == 200
    voicemail = {"minutes": 0, "outcome": "no_response"}  # no notes: the ticket's row is not written first
    assert tenant.api.post(f"{path}/time-entries", json=voicemail).status_code == 201
    statuses = tenant.api.get(f"/api/v1/boards/{board['id']}/statuses").json["items"]
    in_progress = next(uuid.UUID(s["id"]) for s in statuses if s["name"] == "In Progress")
    moved = (  # the dispatcher's PATCH to In Progress, as the service writes it
        "UPDATE ticket SET status_id = %s, status_kind = 'open', waiting_since = NULL WHERE id = %s",
        (in_progress, uuid.UUID(ticket["id"])),
    )

    second = psa.meanwhile("tickets", [moved], lambda: tenant.api.post(f"{path}/time-entries", json=voicemail))

    assert second.status_code == 201, second.json
    assert tenant.api.get(path).json["status"] == "In Progress"


def test_two_admins_setting_one_engineers_grants_at_once_leave_the_last_list(tenant, psa):
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Logistics")
    tech = tenant.member("technician", grants=[])
    member = uuid.UUID(tech.id)
    other_admin_grants_bolt = [  # as the service writes it: the member locked, the list replaced
        ("UPDATE member SET updated_at = updated_at WHERE id = %s", (member,)),
        ("DELETE FROM clientgrant WHERE member_id = %s", (member,)),
        (
            "INSERT INTO clientgrant (id, tenant_id, member_id, client_id) VALUES (%s, %s, %s, %s)",
            (uuid.uuid4(), uuid.UUID(tenant.id), member, uuid.UUID(bolt["id"])),
        ),
    ]
    acme_only = {"all_clients": False, "client_ids": [acme["id"]]}

    granted = psa.meanwhile(
        "tickets", other_admin_grants_bolt, lambda: tenant.api.put(f"/api/v1/members/{tech.id}/grants", json=acme_only)
    )

    assert granted.status_code == 200, granted.json
    assert [c["name"] for c in tech.api.get("/api/v1/clients").json["items"]] == ["Acme Dental"]


def test_two_admins_setting_one_boards_sla_targets_at_once_leave_the_last_list(tenant, psa):
    board = tenant.api.get("/api/v1/boards").json["items"][0]
    board_id = uuid.UUID(board["id"])
    other_admin_sets_p1 = [  # as the service writes it: the board locked, the list replaced
        ("UPDATE board SET name = name WHERE id = %s", (board_id,)),
        ("DELETE FROM slatarget WHERE board_id = %s", (board_id,)),
        (
            "INSERT INTO slatarget (id, tenant_id, board_id, priority, respond_minutes, resolve_minutes)"
            " VALUES (%s, %s, %s, 'P1', 15, 240)",
            (uuid.uuid4(), uuid.UUID(tenant.id), board_id),
        ),
    ]
    p2_only = {"sla_targets": [{"priority": "P2", "respond_minutes": 60, "resolve_minutes": 480}]}

    changed = psa.meanwhile(
        "tickets", other_admin_sets_p1, lambda: tenant.api.patch(f"/api/v1/boards/{board_id}", json=p2_only)
    )

    assert changed.status_code == 200, changed.json
    targets = tenant.api.get(f"/api/v1/boards/{board_id}").json["sla_targets"]
    assert [t["priority"] for t in targets] == ["P2"]


def test_an_older_configuration_event_applied_beside_a_newer_one_leaves_the_newer(tenant, psa):
    pc = configuration(psa, tenant, tenant.client()["id"], name="Front desk PC", updated_at="2026-03-01T10:00:00Z")
    newer = (  # another consumer applying the 12:00 rename
        "UPDATE configurationref SET name = 'Reception PC', updated_at = %s WHERE id = %s",
        (dt.datetime(2026, 3, 1, 12, 0), uuid.UUID(pc["id"])),
    )
    older = {**pc, "name": "Front desk PC (old)", "updated_at": "2026-03-01T11:00:00Z"}

    psa.meanwhile("tickets", [newer], lambda: apply(psa, "configuration.updated", tenant.id, older))

    with psa.service("tickets").db.proxy.connection_context(), tenant_scope(tenant.id):
        assert ConfigurationRef.get_by_id(pc["id"]).name == "Reception PC"


def test_two_first_versions_of_a_configuration_applied_at_once_keep_the_newer(tenant, psa):
    """Two consumers each holding a first version of a new PC: neither fails on the primary key."""
    client_id, pc_id = tenant.client()["id"], uuid.uuid4()

    def first_version(name: str, at: dt.datetime) -> tuple:  # as the other consumer inserts it
        return (
            "INSERT INTO configurationref (id, tenant_id, client_id, name, deleted, updated_at) "
            "VALUES (%s, %s, %s, %s, false, %s)",
            (pc_id, uuid.UUID(str(tenant.id)), uuid.UUID(client_id), name, at),
        )

    def created(name: str, at: str):
        payload = {"id": str(pc_id), "client_id": client_id, "type": "workstation", "name": name,
                   "active": True, "updated_at": at}  # fmt: skip
        return lambda: apply(psa, "configuration.created", tenant.id, payload)

    def held_name() -> str:
        with psa.service("tickets").db.proxy.connection_context(), tenant_scope(tenant.id):
            return ConfigurationRef.get_by_id(pc_id).name

    psa.meanwhile("tickets", [first_version("Front desk PC", dt.datetime(2026, 3, 1, 10))],
                  created("Reception PC", "2026-03-01T11:00:00Z"))  # fmt: skip
    assert held_name() == "Reception PC"

    pc_id = uuid.uuid4()
    psa.meanwhile("tickets", [first_version("Reception PC", dt.datetime(2026, 3, 1, 12))],
                  created("Front desk PC", "2026-03-01T11:00:00Z"))  # fmt: skip
    assert held_name() == "Reception PC"


def test_two_invoices_posted_at_once_with_one_entry_bill_it_once(tenant, psa):
    client = tenant.client()
    ticket = open_ticket(tenant.api, client["id"])
    entry = log(tenant.api, ticket["id"], minutes=60).json
    march, april = uuid.uuid4(), uuid.uuid4()
    april_posting = {"invoice_id": str(april), "number": "INV-4", "client_id": client["id"],
                     "time_entry_ids": [entry["id"]], "total": "120.00", "currency": "USD"}  # fmt: skip

    psa.meanwhile("tickets", [_posted(march, entry)], lambda: apply(psa, "invoice.posted", tenant.id, april_posting))

    path = f"/api/v1/tickets/{ticket['id']}/time-entries/{entry['id']}"
    assert tenant.api.get(path).json["billed_invoice_id"] == str(march)


def test_an_api_key_revoked_while_an_integration_exchanges_it_mints_no_token(tenant, psa):
    made = tenant.api.post("/api/v1/auth/api-keys", json={"name": "RMM sync"}).json
    revoking = (
        "UPDATE apikey SET revoked_at = %s WHERE id = %s",
        (dt.datetime(2026, 11, 26, 12), uuid.UUID(made["id"])),
    )

    exchanged = psa.meanwhile(
        "tickets", [revoking], lambda: psa.http.post("/api/v1/auth/token", json={"api_key": made["key"]})
    )

    assert exchanged.status_code == 401


BUMP_TICKET = {  # another writer changing the ticket between each try's read and its UPDATE
    "sqlite": [
        "CREATE TRIGGER psa_test_bump AFTER INSERT ON timeentry BEGIN "
        "UPDATE ticket SET updated_at = '2000-01-01 00:00:00' WHERE id = NEW.ticket_id; END"
    ],
    "postgresql": [
        "CREATE FUNCTION psa_test_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE ticket SET updated_at = updated_at + interval '1 second' WHERE id = NEW.ticket_id; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER psa_test_bump AFTER INSERT ON timeentry FOR EACH ROW EXECUTE FUNCTION psa_test_bump()",
    ],
}


DROP_BUMP = {
    "sqlite": ["DROP TRIGGER psa_test_bump"],
    "postgresql": ["DROP TRIGGER psa_test_bump ON timeentry", "DROP FUNCTION psa_test_bump()"],
}


def test_a_ticket_that_changes_under_every_try_gets_a_409_and_the_entry_is_not_written(tenant, psa):
    """Each try reads the ticket, then finds another writer changed it before the entry's own
    UPDATE of it (played by a trigger on the entry's INSERT, rolled back with each refused try).
    After three tries the tech is told to log it again; nothing is written, no event leaves."""
    ticket = open_ticket(tenant.api, tenant.client()["id"])
    path = f"/api/v1/tickets/{ticket['id']}/time-entries"
    with psa.as_owner("tickets") as db, db.proxy.connection_context():
        backend = "postgresql" if db.is_postgres else "sqlite"
        for statement in BUMP_TICKET[backend]:
            db.proxy.execute_sql(statement)
    try:
        refused = log(tenant.api, ticket["id"], minutes=15, notes="Called client.")
    finally:
        with psa.as_owner("tickets") as db, db.proxy.connection_context():
            for statement in DROP_BUMP[backend]:
                db.proxy.execute_sql(statement)
    assert refused.status_code == 409 and refused.content_type == "application/problem+json", refused.json
    assert tenant.api.get(path).json["items"] == []
    assert not psa.emitted("time_entry.logged")
    assert log(tenant.api, ticket["id"], minutes=15, notes="Called client.").status_code == 201


def test_six_calls_logged_at_once_on_a_ticket_waiting_on_the_client_are_all_kept(tenant, psa):
    """The whole team rings the client whose ticket waits on her. Until 2026-11-28, on PostgreSQL,
    each entry's foreign key shared the ticket's row while auto-close locked it for update: the
    entries deadlocked, and 4 or 5 of 6 answered 503 "the database is not reachable"."""
    ticket = open_ticket(tenant.api, tenant.client()["id"], status="Waiting on Client")
    start = threading.Barrier(6)

    def call(n):
        start.wait()
        return log(tenant.api, ticket["id"], minutes=1, notes=f"Call {n}").status_code

    with ThreadPoolExecutor(6) as pool:
        assert sorted(pool.map(call, range(6))) == [201] * 6
    assert tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json["spent_minutes"] == 6
