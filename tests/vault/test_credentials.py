"""Credentials as an MSP lives with them: grants decide, secrets stay hidden, reveals are audited."""

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from psa_docs_vault import crypto, keys, rotation
from psa_docs_vault.audit import ACTIONS
from psa_docs_vault.credentials.models import Credential
from psa_shared import events

from .credentials_kit import audit_rows, reveal, settle, store, vault_db


def test_tech_granted_two_of_ten_clients_sees_exactly_two_clients_credentials(psa, tenant):
    clients = [tenant.client(f"Client {i}") for i in range(10)]
    settle(psa)
    for client in clients:
        store(tenant.api, client["id"], name=f"Admin of {client['name']}")
    tech = tenant.member("technician", grants=[clients[0]["id"], clients[1]["id"]])
    settle(psa)
    seen = tech.api.get("/api/v1/credentials?limit=200").json["items"]
    assert {c["client_id"] for c in seen} == {clients[0]["id"], clients[1]["id"]}
    assert len(seen) == 2
    assert all("secret" not in c for c in seen)


def test_reveal_without_grant_is_404_and_exactly_one_denied_audit_row(psa, tenant):
    mine, theirs = tenant.client("Granted Co"), tenant.client("Not Granted Co")
    settle(psa)
    credential = store(tenant.api, theirs["id"])
    tech = tenant.member("technician", grants=[mine["id"]])
    settle(psa)
    response = reveal(tech.api, credential["id"])
    assert response.status_code == 404
    assert "secret" not in (response.json or {})
    rows = audit_rows(psa, tenant.id, actor_id=tech.id)
    assert [(r.action, r.outcome, r.detail) for r in rows] == [("reveal", "denied", "no_grant")]
    assert str(rows[0].credential_id) == credential["id"]
    assert tech.api.get(f"/api/v1/credentials/{credential['id']}").status_code == 404


def test_granted_reveal_returns_the_secret_and_one_allowed_row_with_request_details(psa, tenant):
    client = tenant.client("Acme Dental")
    settle(psa)
    credential = store(tenant.api, client["id"], secret="hunter2")
    tech = tenant.member("technician", grants=[client["id"]])
    settle(psa)
    response = tech.api.post(
        f"/api/v1/credentials/{credential['id']}/reveal",
        json={"reason": "firewall reboot"},
        headers={"X-Correlation-Id": "req-42", "X-Forwarded-For": "198.51.100.7"},
        environ_overrides={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert response.status_code == 200 and response.json == {"secret": "hunter2"}
    (row,) = audit_rows(psa, tenant.id, actor_id=tech.id)
    assert (row.action, row.outcome, row.reason, row.request_id) == ("reveal", "allowed", "firewall reboot", "req-42")
    assert str(row.client_id) == client["id"] and row.address == "203.0.113.9"  # an untrusted peer: XFF ignored


def test_reveal_of_unknown_or_foreign_id_writes_denied_row_in_the_actors_chain(psa, tenant, other_tenant):
    settle(psa)
    foreign_client = other_tenant.client("Their client")
    settle(psa)
    foreign = store(other_tenant.api, foreign_client["id"])
    assert reveal(tenant.api, foreign["id"]).status_code == 404
    rows = audit_rows(psa, tenant.id, actor_id=tenant.admin_id)
    assert [(r.action, r.outcome, r.detail) for r in rows] == [("reveal", "denied", "not_found")]
    assert audit_rows(psa, other_tenant.id, action="reveal") == []


def test_secret_never_appears_in_list_or_read_and_update_records_a_change(psa, tenant):
    client = tenant.client()
    settle(psa)
    credential = store(tenant.api, client["id"], secret="first-secret")
    read = tenant.api.get(f"/api/v1/credentials/{credential['id']}").json
    assert "secret" not in read and "secret" not in credential
    changed = tenant.api.patch(f"/api/v1/credentials/{credential['id']}", json={"secret": "second-secret"})
    assert changed.status_code == 200
    assert changed.json["changed_at"] > credential["changed_at"]
    renamed = tenant.api.patch(f"/api/v1/credentials/{credential['id']}", json={"name": "Renamed"}).json
    assert renamed["changed_at"] == changed.json["changed_at"]
    assert reveal(tenant.api, credential["id"]).json == {"secret": "second-secret"}
    from psa_docs_vault.credentials.models import CredentialChange

    from .credentials_kit import vault_db

    with vault_db(psa, tenant.id):
        changes = list(CredentialChange.select().order_by(CredentialChange.at))
    assert [c.secret_changed for c in changes] == [True, True, False]


@contextmanager
def audit_refusing_reveals(psa):
    """The database refuses the audit's reveal rows (a revoked privilege, a broken disk would)."""
    refuse = "RAISE EXCEPTION 'audit table unavailable'"
    with psa.as_owner("docs_vault") as db, db.proxy.connection_context():
        if db.is_postgres:
            db.proxy.execute_sql(
                f"CREATE FUNCTION refuse_reveals() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {refuse}; END $$"
            )
            db.proxy.execute_sql(
                'CREATE TRIGGER "refuse_reveals" BEFORE INSERT ON "vault_audit" FOR EACH ROW '
                "WHEN (NEW.action = 'reveal') EXECUTE FUNCTION refuse_reveals()"
            )
        else:
            db.proxy.execute_sql(
                "CREATE TRIGGER refuse_reveals BEFORE INSERT ON vault_audit WHEN NEW.action = 'reveal' "
                "BEGIN SELECT RAISE(ABORT, 'audit table unavailable'); END"
            )
    try:
        yield
    finally:
        with psa.as_owner("docs_vault") as db, db.proxy.connection_context():
            db.proxy.execute_sql('DROP TRIGGER "refuse_reveals"' + (' ON "vault_audit"' if db.is_postgres else ""))
            if db.is_postgres:
                db.proxy.execute_sql("DROP FUNCTION refuse_reveals()")


def test_when_the_audit_cannot_be_written_nothing_is_revealed(psa, tenant):
    client = tenant.client()
    settle(psa)
    credential = store(tenant.api, client["id"], secret="never-leaks")
    with audit_refusing_reveals(psa):
        response = reveal(tenant.api, credential["id"])
    assert response.status_code >= 400  # whatever the database's refusal maps to
    assert b"never-leaks" not in response.data
    assert audit_rows(psa, tenant.id, action="reveal") == []


def test_tenant_requiring_a_reason_refuses_a_reveal_without_one(psa, tenant):
    client = tenant.client()
    settle(psa)
    credential = store(tenant.api, client["id"])
    put = tenant.api.put("/api/v1/credentials/settings", json={"reveal_limit_per_hour": 60, "reason_required": True})
    assert put.status_code == 200
    for blank in (None, "   "):  # a reason of spaces says nothing to whoever reads the audit
        response = reveal(tenant.api, credential["id"], reason=blank)
        assert response.status_code == 422 and "reason" in response.json["errors"]
    assert reveal(tenant.api, credential["id"], reason="onsite visit").status_code == 200


def tech_limited_to(psa, tenant, reveals_per_hour: int):
    """A tech granted one client whose credential they may reveal `reveals_per_hour` times an hour."""
    client = tenant.client()
    settle(psa)
    credential = store(tenant.api, client["id"])
    limits = {"reveal_limit_per_hour": reveals_per_hour, "reason_required": False}
    assert tenant.api.put("/api/v1/credentials/settings", json=limits).status_code == 200
    tech = tenant.member("technician", grants=[client["id"]])
    settle(psa)
    return tech, credential


def test_reveals_past_the_hourly_limit_get_429_a_denied_row_and_one_burst_event(psa, tenant):
    tech, credential = tech_limited_to(psa, tenant, 3)
    codes = [reveal(tech.api, credential["id"]).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    limited = reveal(tech.api, credential["id"])
    assert limited.content_type == "application/problem+json" and int(limited.headers["Retry-After"]) > 0
    rows = audit_rows(psa, tenant.id, actor_id=tech.id)
    assert [r.outcome for r in rows] == ["allowed"] * 3 + ["denied"] * 3
    assert {r.detail for r in rows if r.outcome == "denied"} == {"rate_limited"}
    outbox = psa.service("docs_vault").outbox.model
    with psa.service("docs_vault").db.proxy.connection_context():
        bursts = list(outbox.select().where(outbox.type == "vault.reveal_burst"))
    assert len(bursts) == 1


def test_a_rate_limited_reveal_keeps_its_reason_in_the_denied_row(psa, tenant):
    tech, credential = tech_limited_to(psa, tenant, 1)
    assert reveal(tech.api, credential["id"], reason="ticket 1234").status_code == 200
    assert reveal(tech.api, credential["id"], reason="ticket 1235").status_code == 429
    denied = audit_rows(psa, tenant.id, actor_id=tech.id, outcome="denied")
    assert [(r.detail, r.reason) for r in denied] == [("rate_limited", "ticket 1235")]


def test_a_burst_of_simultaneous_reveals_lets_exactly_the_limit_through(psa, tenant):
    tech, credential = tech_limited_to(psa, tenant, 5)
    assert [reveal(tech.api, credential["id"]).status_code for _ in range(2)] == [200, 200]
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda _: reveal(tech.api, credential["id"]).status_code, range(16)))
    assert sorted(codes) == [200] * 3 + [429] * 13
    rows = audit_rows(psa, tenant.id, actor_id=tech.id)
    assert [r.outcome for r in rows].count("allowed") == 5


def test_only_admins_export_and_every_exported_credential_is_audited(psa, tenant):
    a, b = tenant.client("A"), tenant.client("B")
    settle(psa)
    for client in (a, a, b):
        store(tenant.api, client["id"], secret=f"pw-{client['name']}")
    tech = tenant.member("technician")
    settle(psa)
    refused = tech.api.post("/api/v1/credentials/export", json={})
    assert refused.status_code == 403
    assert [(r.action, r.outcome) for r in audit_rows(psa, tenant.id, actor_id=tech.id)] == [("export", "denied")]
    exported = tenant.api.post("/api/v1/credentials/export", json={"client_id": a["id"]})
    assert exported.status_code == 200
    assert [i["secret"] for i in exported.json["items"]] == ["pw-A", "pw-A"]
    assert len(audit_rows(psa, tenant.id, action="export", outcome="allowed")) == 2


def test_admin_filters_the_audit_log_by_member_and_action(psa, tenant):
    client = tenant.client()
    settle(psa)
    credential = store(tenant.api, client["id"])
    tech = tenant.member("technician", grants=[client["id"]])
    settle(psa)
    reveal(tech.api, credential["id"])
    page = tenant.api.get(f"/api/v1/audit?actor_id={tech.id}&action=reveal").json
    assert [(i["action"], i["outcome"], i["credential_id"]) for i in page["items"]] == [
        ("reveal", "allowed", credential["id"])
    ]
    assert tech.api.get("/api/v1/audit").status_code == 403


def test_an_audit_filter_on_an_action_the_vault_never_records_is_refused_not_an_empty_page(psa, tenant):
    """The auditor types `action=reveals`: an empty page would read as "nobody saw a password".
    The 422 names `action` and the actions there are."""
    settle(psa)
    refused = tenant.api.get("/api/v1/audit?action=reveals")
    assert refused.status_code == 422, refused.json
    assert all(action in refused.json["errors"]["action"][0] for action in ACTIONS)
    for action in ACTIONS:
        assert tenant.api.get(f"/api/v1/audit?action={action}").status_code == 200, action


def _stored(psa, tenant, secret: str) -> tuple[dict, uuid.UUID]:
    client = tenant.client("Acme Dental")
    settle(psa)
    credential = store(tenant.api, client["id"], secret=secret)
    return credential, uuid.UUID(credential["id"])


SEALED = "UPDATE credential SET key_version = %s, secret_ct = %s WHERE id = %s"


def test_a_credential_renamed_while_key_rotation_reencrypts_it_keeps_the_new_ciphertext(psa, tenant):
    credential, row_id = _stored(psa, tenant, "hunter2")
    with vault_db(psa, tenant.id):
        version, sealed = crypto.encrypt_field(row_id, "secret", "hunter2", keys.create_version())

    rename = {"name": "Firewall admin (HQ)"}
    renamed = psa.meanwhile(
        "docs_vault",
        [(SEALED, (version, sealed, row_id))],
        lambda: tenant.api.patch(f"/api/v1/credentials/{row_id}", json=rename),
    )

    assert renamed.status_code == 200
    with vault_db(psa, tenant.id):  # the rename wrote its name, not the ciphertext it had read
        row = Credential.get_by_id(row_id)
        assert (row.name, row.key_version, bytes(row.secret_ct)) == ("Firewall admin (HQ)", version, sealed)
    assert reveal(tenant.api, credential["id"]).json == {"secret": "hunter2"}


def test_a_secret_changed_while_a_rotation_finishes_stays_readable(psa, tenant):
    credential, row_id = _stored(psa, tenant, "hunter2")
    with vault_db(psa, tenant.id):
        changed = crypto.encrypt_field(row_id, "secret", "correct horse", 1)  # under the version current then
    current_taken = ("UPDATE tenantkey SET kek_id = kek_id WHERE version = 1", ())  # as `keys.ensure_current` locks it

    def rotate():
        with vault_db(psa, tenant.id):
            return rotation.rotate_tenant()

    # PostgreSQL: the rotation re-encrypts the credential and waits to finish; then the tech's write lands
    psa.meanwhile("docs_vault", [current_taken], rotate, then=[(SEALED, (*changed, row_id))])

    assert reveal(tenant.api, credential["id"]).json == {"secret": "correct horse"}
    with vault_db(psa, tenant.id):
        assert rotation.rotate_tenant().remaining == 0  # the next run finishes what this one left
    assert reveal(tenant.api, credential["id"]).json == {"secret": "correct horse"}


def test_an_older_member_event_applied_beside_a_deactivation_leaves_the_engineer_out(psa, tenant):
    client = tenant.client("Acme Dental")
    leaving = tenant.member("technician", grants=[client["id"]])
    settle(psa)
    credential = store(tenant.api, client["id"], secret="hunter2")
    latest = [e for e in psa.emitted() if e.type.startswith("member.") and e.payload["id"] == leaving.id][-1]
    deactivated = (  # another consumer applying a deactivation an hour later
        "UPDATE memberrecord SET active = %s, stamp = %s, updated_at = %s WHERE id = %s",
        (False, "0" * 32, _naive(latest.payload["updated_at"]) + dt.timedelta(hours=1), uuid.UUID(leaving.id)),
    )
    vault = next(c for c in psa.consumers() if c.service == "docs_vault")
    again = events.build("member.updated", tenant.id, latest.payload)  # the grant's state, delivered again

    assert psa.meanwhile("docs_vault", [deactivated], lambda: vault.apply(again))

    assert reveal(leaving.api, credential["id"]).status_code == 401


def _naive(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
