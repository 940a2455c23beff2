"""Offboarding: a leaving tech's tokens die in the vault, and what they saw is listed for rotation."""

import json
import time
import uuid

import pytest

from psa_shared.auth import KeyRing
from psa_shared.tenancy import tenant_scope

from .credentials_kit import audit_rows, reveal, settle, store, vault_db


def _vault_events(psa, event_type):
    outbox = psa.service("docs_vault").outbox.model
    with psa.service("docs_vault").db.proxy.connection_context():
        return [json.loads(r.body) for r in outbox.select().where(outbox.type == event_type)]


def test_deactivated_tech_token_is_refused_by_the_vault_once_the_event_is_applied(psa, tenant):
    tech = tenant.member("technician")
    settle(psa)
    assert tech.api.get("/api/v1/credentials").status_code == 200
    assert tenant.api.post(f"/api/v1/members/{tech.id}/deactivate").status_code == 200
    settle(psa)
    assert tech.api.get("/api/v1/credentials").status_code == 401
    assert tech.api.post("/api/v1/credentials/export", json={}).status_code == 401


def test_a_member_the_vault_has_not_heard_of_is_refused(psa, tenant):
    tech = tenant.member("technician")  # no settle: the vault does not know them yet
    assert tech.api.get("/api/v1/credentials").status_code == 401


def test_a_token_stops_working_at_expiry_even_when_no_event_arrives(psa, tenant):
    from psa_tickets.directory.models import Member
    from psa_tickets.directory.tokens import member_view

    tech = tenant.member("technician")
    settle(psa)
    with psa.service("tickets").db.proxy.connection_context(), tenant_scope(tenant.id):
        short = KeyRing.load(psa.settings, issuer=True).mint(member_view(Member.get_by_id(tech.id)), 2)
    api = psa.http.as_token(short)
    assert api.get("/api/v1/credentials").status_code == 200
    time.sleep(3.1)  # `exp` is whole seconds: a 2 s token lives between 1 and 2 s
    expired = api.get("/api/v1/credentials")
    assert expired.status_code == 401 and expired.content_type == "application/problem+json"


def test_at_risk_after_fifty_reveals_of_which_ten_were_since_rotated_lists_exactly_forty(psa, tenant):
    clients = [tenant.client(f"Client {i}") for i in range(5)]
    settle(psa)
    tenant.api.put("/api/v1/credentials/settings", json={"reveal_limit_per_hour": 1000, "reason_required": False})
    credentials = [store(tenant.api, c["id"], secret=f"pw-{c['name']}-{i}") for c in clients for i in range(10)]
    tech = tenant.member("technician", all_clients=True)
    settle(psa)
    for credential in credentials:
        assert reveal(tech.api, credential["id"]).status_code == 200
    rotated = credentials[::5]  # two per client
    for credential in rotated:
        assert tenant.api.patch(f"/api/v1/credentials/{credential['id']}", json={"secret": "new"}).status_code == 200
    report = tenant.api.get(f"/api/v1/reports/at-risk?member={tech.id}")
    assert report.status_code == 200
    listed = {item["credential_id"] for item in report.json["items"]}
    assert len(listed) == 40
    assert listed == {c["id"] for c in credentials} - {c["id"] for c in rotated}

    assert tenant.api.post(f"/api/v1/members/{tech.id}/deactivate").status_code == 200
    settle(psa)
    (event,) = _vault_events(psa, "vault.rotation_required")
    payload = event["payload"]
    assert payload["member_id"] == tech.id and payload["member_name"] == "Technician"
    assert {c["client_id"] for c in payload["clients"]} == {c["id"] for c in clients}
    assert sum(len(c["credential_ids"]) for c in payload["clients"]) == 40
    assert tech.api.get("/api/v1/credentials").status_code == 401


def test_a_deactivated_member_who_saw_nothing_raises_no_rotation_work(psa, tenant):
    tech = tenant.member("technician")
    settle(psa)
    tenant.api.post(f"/api/v1/members/{tech.id}/deactivate")
    settle(psa)
    assert _vault_events(psa, "vault.rotation_required") == []


def test_at_risk_is_for_admins_and_names_an_unknown_member_as_the_field_at_fault(psa, tenant):
    tech = tenant.member("technician")
    settle(psa)
    assert tech.api.get(f"/api/v1/reports/at-risk?member={tech.id}").status_code == 403
    unknown = tenant.api.get("/api/v1/reports/at-risk?member=01900000-0000-7000-8000-000000000000")
    assert unknown.status_code == 422 and "member" in unknown.json["errors"]


def test_a_password_revealed_while_the_deactivation_lands_is_refused_not_missed(psa, tenant, monkeypatch):
    """Ed asks for a password; between the vault checking his token and writing the audit row, the
    admin deactivates him and the vault lists what he saw. Until 2026-11-28 the reveal went through
    after that listing: the at-risk report named the password, no rotation ticket did. Now it is
    refused (401) and audited as denied, so what he took and what the rotation lists agree."""
    from psa_docs_vault import crypto

    acme = tenant.client("Acme")
    ed = tenant.member("technician", grants=[acme["id"]])
    settle(psa)
    firewall = store(tenant.api, acme["id"], secret="fw-admin-pw")
    decrypt = crypto.decrypt_field

    def deactivated_meanwhile(*args):
        assert tenant.api.post(f"/api/v1/members/{ed.id}/deactivate").status_code == 200
        settle(psa)  # the vault applies it, and lists what Ed saw, before his reveal writes
        monkeypatch.setattr(crypto, "decrypt_field", decrypt)
        return decrypt(*args)

    monkeypatch.setattr(crypto, "decrypt_field", deactivated_meanwhile)
    answer = reveal(ed.api, firewall["id"])

    assert answer.status_code == 401 and "fw-admin-pw" not in answer.get_data(as_text=True)
    _refused_and_nothing_listed(psa, tenant, ed, "reveal")


def test_an_export_by_an_admin_deactivated_after_the_token_check_is_refused(psa, tenant):
    """The same for the export, whose secrets are read inside the transaction that holds the audit
    head: an admin whose request was checked before the deactivation landed gets nothing."""
    from psa_docs_vault.audit import Context
    from psa_docs_vault.credentials import service
    from psa_docs_vault.projection import lookup_member
    from psa_shared.auth import Principal
    from psa_shared.errors import Unauthorized

    acme = tenant.client("Acme")
    ed = tenant.member("admin")
    settle(psa)
    store(tenant.api, acme["id"], secret="fw-admin-pw")
    with vault_db(psa, tenant.id):
        checked = Principal(lookup_member(uuid.UUID(tenant.id), uuid.UUID(ed.id)))  # his request's token check
    assert tenant.api.post(f"/api/v1/members/{ed.id}/deactivate").status_code == 200
    settle(psa)

    with vault_db(psa, tenant.id), pytest.raises(Unauthorized):
        service.export(checked, Context(actor_id=checked.member_id))
    _refused_and_nothing_listed(psa, tenant, ed, "export")


def _refused_and_nothing_listed(psa, tenant, member, action):
    (refused,) = audit_rows(psa, tenant.id, actor_id=member.id, action=action)
    assert (refused.outcome, refused.detail) == ("denied", "deactivated")
    assert tenant.api.get(f"/api/v1/reports/at-risk?member={member.id}").json["items"] == []
    assert _vault_events(psa, "vault.rotation_required") == []  # saw nothing, and nothing is missed
