"""Edges of the docs vault, as an MSP meets them: devices that change hands, admins limited to a
few clients, engineers who leave knowing passwords they typed in, and uploads that claim to be
scripts."""

import io

import pytest

from psa_docs_vault.credentials.models import Credential

from .credentials_kit import audit_rows, reveal, settle, store, vault_db

CONFIGURATIONS = "/api/v1/configurations"


def _firewall(api, client_id) -> dict:
    made = api.post(CONFIGURATIONS, json={"client_id": client_id, "type": "firewall", "name": "FW-1"})
    assert made.status_code == 201, made.json
    return made.json


def test_a_firewall_whose_credentials_point_at_it_cannot_move_to_another_client(psa, tenant):
    dental, law_firm = tenant.client("Dental Practice"), tenant.client("Law Firm")
    settle(psa)
    firewall = _firewall(tenant.api, dental["id"])
    credential = store(tenant.api, dental["id"], configuration_id=firewall["id"])

    moved = tenant.api.patch(f"{CONFIGURATIONS}/{firewall['id']}", json={"client_id": law_firm["id"]})

    assert moved.status_code == 422 and moved.content_type == "application/problem+json"
    assert "client_id" in moved.json["errors"]
    assert tenant.api.get(f"{CONFIGURATIONS}/{firewall['id']}").json["client_id"] == dental["id"]
    linked = tenant.api.get(f"/api/v1/credentials/{credential['id']}").json
    assert (linked["client_id"], linked["configuration_id"]) == (dental["id"], firewall["id"])


def test_once_its_credentials_are_detached_the_firewall_moves(psa, tenant):
    dental, law_firm = tenant.client("Dental Practice"), tenant.client("Law Firm")
    settle(psa)
    firewall = _firewall(tenant.api, dental["id"])
    credential = store(tenant.api, dental["id"], configuration_id=firewall["id"])
    detached = tenant.api.patch(f"/api/v1/credentials/{credential['id']}", json={"configuration_id": None})
    assert detached.status_code == 200

    moved = tenant.api.patch(f"{CONFIGURATIONS}/{firewall['id']}", json={"client_id": law_firm["id"]})

    assert moved.status_code == 200 and moved.json["client_id"] == law_firm["id"]
    with vault_db(psa, tenant.id):
        assert Credential.select().where(Credential.configuration_id == firewall["id"]).count() == 0


def test_admin_limited_to_one_client_exporting_another_is_refused_and_audited(psa, tenant):
    mine, theirs = tenant.client("Mine"), tenant.client("Theirs")
    settle(psa)
    store(tenant.api, theirs["id"], secret="not-for-this-admin")
    admin = tenant.member("admin", grants=[mine["id"]], all_clients=False)
    settle(psa)

    refused = admin.api.post("/api/v1/credentials/export", json={"client_id": theirs["id"]})

    assert refused.status_code == 422 and "client_id" in refused.json["errors"]
    assert b"not-for-this-admin" not in refused.data
    rows = audit_rows(psa, tenant.id, actor_id=admin.id)
    assert [(r.action, r.outcome, r.detail, str(r.client_id)) for r in rows] == [
        ("export", "denied", "no_grant", theirs["id"])
    ]


def test_exporting_a_client_the_vault_does_not_know_is_audited_as_not_found(psa, tenant):
    settle(psa)
    unknown = "01900000-0000-7000-8000-000000000000"
    refused = tenant.api.post("/api/v1/credentials/export", json={"client_id": unknown})
    assert refused.status_code == 422 and "client_id" in refused.json["errors"]
    rows = audit_rows(psa, tenant.id, actor_id=tenant.admin_id, action="export")
    assert [(r.outcome, r.detail) for r in rows] == [("denied", "not_found")]


def test_an_engineer_who_set_a_password_themselves_must_have_it_rotated_when_they_leave(psa, tenant):
    """Tom reveals the firewall password, then "rotates" it to one he chose. He knows the new one."""
    client = tenant.client("Dental Practice")
    settle(psa)
    firewall = store(tenant.api, client["id"], name="Firewall admin")
    tom = tenant.member("technician", grants=[client["id"]])
    settle(psa)
    assert reveal(tom.api, firewall["id"]).status_code == 200
    changed = tom.api.patch(f"/api/v1/credentials/{firewall['id']}", json={"secret": "tom-knows-this"})
    assert changed.status_code == 200
    switch = tom.api.post(
        "/api/v1/credentials", json={"client_id": client["id"], "name": "Switch console", "secret": "tom-typed-it"}
    ).json

    report = tenant.api.get(f"/api/v1/reports/at-risk?member={tom.id}").json["items"]

    assert {item["credential_id"] for item in report} == {firewall["id"], switch["id"]}


def test_a_password_the_engineer_set_and_someone_else_changed_since_is_not_at_risk(psa, tenant):
    client = tenant.client("Dental Practice")
    settle(psa)
    tom = tenant.member("technician", grants=[client["id"]])
    settle(psa)
    made = tom.api.post("/api/v1/credentials", json={"client_id": client["id"], "name": "NAS", "secret": "tom's"})
    assert made.status_code == 201
    assert tenant.api.patch(f"/api/v1/credentials/{made.json['id']}", json={"secret": "admin's"}).status_code == 200
    assert tenant.api.get(f"/api/v1/reports/at-risk?member={tom.id}").json["items"] == []


@pytest.mark.parametrize(
    "declared",
    ["application/xhtml+xml", "application/x-javascript", "text/ecmascript", "application/ecmascript", "text/jscript"],
)
def test_an_upload_declared_as_a_page_or_script_browsers_run_is_refused(psa, tenant, declared):
    client = tenant.client()
    settle(psa)
    server = tenant.api.post(CONFIGURATIONS, json={"client_id": client["id"], "type": "server", "name": "DC01"}).json
    refused = tenant.api.post(
        f"{CONFIGURATIONS}/{server['id']}/attachments",
        data={"file": (io.BytesIO(b"<html><script>alert(1)</script>"), "notes.txt", declared)},
    )
    assert refused.status_code == 415 and "file" in refused.json["errors"]
    assert tenant.api.get(f"{CONFIGURATIONS}/{server['id']}/attachments").json["items"] == []


def test_removing_a_grant_stops_the_next_reveal(psa, tenant):
    client = tenant.client()
    settle(psa)
    credential = store(tenant.api, client["id"])
    tech = tenant.member("technician", grants=[client["id"]])
    settle(psa)
    assert reveal(tech.api, credential["id"]).status_code == 200
    body = {"all_clients": False, "client_ids": []}
    assert tenant.api.put(f"/api/v1/members/{tech.id}/grants", json=body).status_code == 200
    settle(psa)
    assert reveal(tech.api, credential["id"]).status_code == 404
    rows = audit_rows(psa, tenant.id, actor_id=tech.id)
    assert [(r.outcome, r.detail) for r in rows] == [("allowed", None), ("denied", "no_grant")]
