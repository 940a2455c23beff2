"""A configuration's key files are secrets too: every download is audited, counts against the
member's reveal limit, and lands on the leaver's at-risk report."""

import io
import uuid

import pytest

from psa_docs_vault import audit
from psa_docs_vault.audit import AuditRow

from .credentials_kit import audit_rows, reveal, settle, store, vault_db

URL = "/api/v1/configurations"
VPN_PROFILE = b"client\ndev tun\n<key>\n-----BEGIN PRIVATE KEY-----\nMIIE...\n</key>\n"


@pytest.fixture
def firewall(psa, tenant):
    """A client's firewall with its VPN profile attached, and a tech granted that client."""
    client = tenant.client("Dental Practice")
    settle(psa)
    configuration = tenant.api.post(URL, json={"client_id": client["id"], "type": "firewall", "name": "FW01"}).json
    attached = tenant.api.post(
        f"{URL}/{configuration['id']}/attachments", data={"file": (io.BytesIO(VPN_PROFILE), "office.ovpn")}
    )
    assert attached.status_code == 201, attached.json
    tech = tenant.member("technician", grants=[client["id"]])
    settle(psa)
    return client, configuration, attached.json, tech


def download(api, configuration, attachment, **query):
    return api.get(f"{URL}/{configuration['id']}/attachments/{attachment['id']}", query_string=query)


def limit_reveals(tenant, per_hour: int) -> None:
    limits = {"reveal_limit_per_hour": per_hour, "reason_required": False}
    assert tenant.api.put("/api/v1/credentials/settings", json=limits).status_code == 200


def test_a_tech_downloading_the_vpn_profile_leaves_an_audit_row_in_the_chain(psa, tenant, firewall):
    client, configuration, attachment, tech = firewall
    got = tech.api.get(
        f"{URL}/{configuration['id']}/attachments/{attachment['id']}?reason=ticket+1234",
        headers={"X-Correlation-Id": "req-7"},
    )
    assert got.status_code == 200 and got.data == VPN_PROFILE
    (row,) = audit_rows(psa, tenant.id, actor_id=tech.id)
    assert (row.action, row.outcome, row.reason, row.request_id) == ("download", "allowed", "ticket 1234", "req-7")
    assert str(row.attachment_id) == attachment["id"] and str(row.client_id) == client["id"]
    assert row.credential_id is None
    listed = tenant.api.get(f"/api/v1/audit?action=download&attachment_id={attachment['id']}").json["items"]
    assert [(r["actor_id"], r["attachment_id"]) for r in listed] == [(tech.id, attachment["id"])]
    with vault_db(psa, tenant.id):
        assert audit.verify().ok


def test_downloads_share_the_reveal_limit_and_past_it_get_429_with_retry_after(psa, tenant, firewall):
    client, configuration, attachment, tech = firewall
    credential = store(tenant.api, client["id"])
    limit_reveals(tenant, 3)
    assert reveal(tech.api, credential["id"]).status_code == 200
    assert [download(tech.api, configuration, attachment).status_code for _ in range(2)] == [200, 200]
    refused = download(tech.api, configuration, attachment, reason="one more")
    assert refused.status_code == 429 and refused.content_type == "application/problem+json"
    assert int(refused.headers["Retry-After"]) > 0 and VPN_PROFILE not in refused.data
    assert reveal(tech.api, credential["id"]).status_code == 429
    rows = audit_rows(psa, tenant.id, actor_id=tech.id)
    assert [(r.action, r.outcome, r.detail) for r in rows] == [
        ("reveal", "allowed", None),
        ("download", "allowed", None),
        ("download", "allowed", None),
        ("download", "denied", "rate_limited"),
        ("reveal", "denied", "rate_limited"),
    ]
    assert str(rows[3].attachment_id) == attachment["id"] and rows[3].reason == "one more"


def test_downloads_without_a_grant_or_of_an_unknown_file_leave_denied_rows(psa, tenant, firewall):
    client, configuration, attachment, tech = firewall
    outsider = tenant.member("technician", grants=[])
    settle(psa)
    unknown = {"id": str(uuid.uuid4())}
    assert download(outsider.api, configuration, attachment).status_code == 404
    assert download(outsider.api, unknown, attachment).status_code == 404
    assert download(tech.api, configuration, unknown).status_code == 404
    rows = audit_rows(psa, tenant.id, action="download")
    assert [(r.outcome, r.detail) for r in rows] == [
        ("denied", "no_grant"),
        ("denied", "not_found"),
        ("denied", "not_found"),
    ]
    assert [str(r.attachment_id) for r in rows] == [attachment["id"], attachment["id"], unknown["id"]]
    assert str(rows[0].client_id) == client["id"]


def test_the_leavers_at_risk_report_lists_the_key_file_they_downloaded_until_it_is_deleted(psa, tenant, firewall):
    client, configuration, attachment, tech = firewall
    for _ in range(3):
        assert download(tech.api, configuration, attachment).status_code == 200
    (item,) = tenant.api.get(f"/api/v1/reports/at-risk?member={tech.id}").json["items"]
    assert (item["attachment_id"], item["configuration_id"], item["client_id"]) == (
        attachment["id"],
        configuration["id"],
        client["id"],
    )
    assert item["name"] == "office.ovpn" and item["credential_id"] is None
    assert tenant.api.delete(f"{URL}/{configuration['id']}/attachments/{attachment['id']}").status_code == 204
    assert tenant.api.get(f"/api/v1/reports/at-risk?member={tech.id}").json["items"] == []


def test_offboarding_a_tech_who_took_the_vpn_profile_opens_a_rotation_ticket_naming_it(psa, tenant, firewall):
    client, configuration, attachment, tech = firewall
    credential = store(tenant.api, client["id"])
    assert reveal(tech.api, credential["id"]).status_code == 200
    assert download(tech.api, configuration, attachment).status_code == 200
    assert tenant.api.post(f"/api/v1/members/{tech.id}/deactivate").status_code == 200
    settle(psa)
    (ticket,) = tenant.api.get("/api/v1/tickets", query_string={"client_id": client["id"]}).json["items"]
    assert ticket["summary"] == "Rotate 1 credential and 1 file (staff change)"
    description = tenant.api.get(f"/api/v1/tickets/{ticket['id']}").json["description"]
    assert f"/api/v1/credentials/{credential['id']}" in description
    assert f"{URL}/{configuration['id']}/attachments/{attachment['id']}" in description


def test_a_leaver_who_only_downloaded_a_file_still_leaves_rotation_work(psa, tenant, firewall):
    client, configuration, attachment, tech = firewall
    assert download(tech.api, configuration, attachment).status_code == 200
    assert tenant.api.post(f"/api/v1/members/{tech.id}/deactivate").status_code == 200
    settle(psa)
    summaries = [t["summary"] for t in tenant.api.get("/api/v1/tickets").json["items"]]
    assert summaries == ["Rotate 1 file (staff change)"]


def test_rows_chained_before_attachments_were_audited_still_verify(psa, tenant, firewall):
    client, configuration, attachment, tech = firewall
    credential = store(tenant.api, client["id"])
    assert reveal(tech.api, credential["id"]).status_code == 200
    assert download(tech.api, configuration, attachment).status_code == 200
    with vault_db(psa, tenant.id):
        revealed = AuditRow.get(AuditRow.action == "reveal")
        values = {k: getattr(revealed, k) for k in audit.CHAINED if k != "attachment_id"}  # as written before
        assert audit.row_hash(revealed.prev_hash, values) == revealed.hash
        assert audit.verify().ok


def test_who_uploaded_and_who_deleted_a_key_file_is_in_the_audit(psa, tenant, firewall):
    """The tech downloads the VPN profile, then deletes it before he leaves: it drops off his
    at-risk report (the vault holds nothing left to replace), so the audit must say who deleted it.
    Until 2026-11-28 neither the upload nor the delete of a file wrote an audit row."""
    client, configuration, attachment, tech = firewall
    assert download(tech.api, configuration, attachment, reason="VPN setup").status_code == 200
    assert tech.api.delete(f"{URL}/{configuration['id']}/attachments/{attachment['id']}").status_code == 204

    rows = audit_rows(psa, tenant.id, attachment_id=uuid.UUID(attachment["id"]))
    assert [(str(r.actor_id), r.action, r.outcome) for r in rows] == [
        (tenant.admin_id, "create", "allowed"),
        (tech.id, "download", "allowed"),
        (tech.id, "delete", "allowed"),
    ]
    assert {str(r.client_id) for r in rows} == {client["id"]}
    listed = tenant.api.get("/api/v1/audit", query_string={"actor_id": tech.id, "action": "delete"}).json["items"]
    assert [item["attachment_id"] for item in listed] == [attachment["id"]]
