"""An MSP revokes a leaked integration key: every token already traded for it dies at once, in the
tickets service and, as soon as `api_key.revoked` reaches it, in the vault. Until 2026-11-27 such
a token lived out its 15 minutes, revealing client passwords if its scopes allowed."""

from __future__ import annotations

from .test_directory_edges import _sign_in_with_key


def _key(api, name: str, scopes: list[str] | None = None) -> dict:
    body = {"name": name} if scopes is None else {"name": name, "scopes": scopes}
    made = api.post("/api/v1/auth/api-keys", json=body)
    assert made.status_code == 201, made.json
    return made.json


def _revoke(api, key: dict) -> None:
    revoked = api.delete(f"/api/v1/auth/api-keys/{key['id']}")
    assert revoked.status_code == 200, revoked.json


def _refused(response) -> None:
    assert response.status_code == 401, response.json
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_token_of_a_revoked_rmm_key_is_refused_at_once_by_the_service_desk(psa, tenant):
    rmm = _key(tenant.api, "RMM")
    leaked = _sign_in_with_key(psa, rmm["key"])
    assert leaked.get("/api/v1/clients").status_code == 200

    _revoke(tenant.api, rmm)

    _refused(leaked.get("/api/v1/clients"))
    _refused(leaked.get("/api/v1/auth/me"))


def test_once_the_revocation_reaches_the_vault_the_leaked_token_reveals_no_password(psa, tenant):
    client = tenant.client("Acme Dental")
    psa.settle()
    credential = tenant.api.post(
        "/api/v1/credentials", json={"client_id": client["id"], "name": "Firewall admin", "secret": "hunter2"}
    ).json
    rmm = _key(tenant.api, "RMM", ["vault:read", "vault:reveal"])
    leaked = _sign_in_with_key(psa, rmm["key"])
    assert leaked.get("/api/v1/credentials").status_code == 200

    _revoke(tenant.api, rmm)
    psa.settle()

    _refused(leaked.get("/api/v1/credentials"))
    _refused(leaked.post(f"/api/v1/credentials/{credential['id']}/reveal", json={"reason": "leak"}))
    assert tenant.api.get("/api/v1/credentials").status_code == 200  # the admin's password token lives on


def test_the_members_other_integration_and_password_sign_in_keep_working(psa, tenant):
    tech = tenant.member("technician")
    rmm, psa_sync = _key(tech.api, "RMM"), _key(tech.api, "PSA sync")
    leaked, sync = _sign_in_with_key(psa, rmm["key"]), _sign_in_with_key(psa, psa_sync["key"])
    psa.settle()

    _revoke(tech.api, rmm)
    psa.settle()

    for api in (sync, tech.api):
        assert api.get("/api/v1/clients").status_code == 200
        assert api.get("/api/v1/credentials").status_code == 200
    _refused(leaked.get("/api/v1/clients"))
    _refused(leaked.get("/api/v1/credentials"))


def test_revocation_is_announced_once_with_the_key_and_its_member(psa, tenant):
    tech = tenant.member("technician")
    rmm = _key(tech.api, "RMM")

    _revoke(tech.api, rmm)
    _revoke(tech.api, rmm)  # revoking again changes nothing

    (event,) = psa.emitted("api_key.revoked")
    assert (str(event.tenant_id), event.payload["id"], event.payload["member_id"]) == (tenant.id, rmm["id"], tech.id)


def test_revoking_a_key_in_one_msp_leaves_another_msps_integration_alone(psa, tenant, other_tenant):
    ours, theirs = _key(tenant.api, "RMM"), _key(other_tenant.api, "RMM")
    our_token, their_token = _sign_in_with_key(psa, ours["key"]), _sign_in_with_key(psa, theirs["key"])
    psa.settle()

    _revoke(tenant.api, ours)
    psa.settle()

    _refused(our_token.get("/api/v1/clients"))
    assert other_tenant.api.delete(f"/api/v1/auth/api-keys/{ours['id']}").status_code == 404
    assert their_token.get("/api/v1/clients").status_code == 200
    assert their_token.get("/api/v1/credentials").status_code == 200
