"""A technician's password is stolen and the intruder makes an API key with it: the admin resets the
password, then finds that key among the technician's and revokes it. Until 2026-11-28 the list
showed the caller's own keys only, so the intruder's key outlived the reset, minting tokens."""

from .test_directory_edges import _sign_in_with_key


def _compromised(tenant):
    tech = tenant.member("technician", email="victim@msp.example")
    made = tech.api.post("/api/v1/auth/api-keys", json={"name": "attacker's key"})
    assert made.status_code == 201, made.json
    assert tenant.api.patch(f"/api/v1/members/{tech.id}", json={"password": "a brand new pw"}).status_code == 200
    return tech, made.json


def _exchanged(psa, key: dict) -> int:
    return psa.http.post("/api/v1/auth/token", json={"api_key": key["key"]}).status_code


def test_admin_finds_and_revokes_the_key_an_intruder_made_with_a_stolen_password(tenant, psa):
    tech, attackers = _compromised(tenant)
    assert _exchanged(psa, attackers) == 200  # the reset alone does not stop it

    listed = tenant.api.get(f"/api/v1/auth/api-keys?member_id={tech.id}")
    assert listed.status_code == 200, listed.json
    assert [k["id"] for k in listed.json["items"]] == [attackers["id"]] and "key" not in listed.json["items"][0]
    revoked = tenant.api.delete(f"/api/v1/auth/api-keys/{attackers['id']}")

    assert revoked.status_code == 200 and revoked.json["revoked_at"] is not None, revoked.json
    assert _exchanged(psa, attackers) == 401
    (event,) = psa.emitted("api_key.revoked")  # announced as the member's own revocation is, the admin its actor
    assert (event.payload["id"], event.payload["member_id"], event.actor) == (attackers["id"], tech.id, tenant.admin_id)


def test_the_admins_own_list_stays_their_own(tenant):
    _compromised(tenant)
    mine = tenant.api.post("/api/v1/auth/api-keys", json={"name": "RMM"}).json

    for path in ("/api/v1/auth/api-keys", f"/api/v1/auth/api-keys?member_id={tenant.admin_id}"):
        assert [k["id"] for k in tenant.api.get(path).json["items"]] == [mine["id"]]


def test_a_technician_sees_only_their_own_keys(tenant):
    tech, attackers = _compromised(tenant)
    colleague = tenant.member("technician")
    tenant.api.post("/api/v1/auth/api-keys", json={"name": "RMM"})

    refused = colleague.api.get(f"/api/v1/auth/api-keys?member_id={tech.id}")
    admins = colleague.api.get(f"/api/v1/auth/api-keys?member_id={tenant.admin_id}")

    for response in (refused, admins):
        assert response.status_code == 403 and response.content_type == "application/problem+json", response.json
    assert colleague.api.get("/api/v1/auth/api-keys").json["items"] == []
    assert colleague.api.get(f"/api/v1/auth/api-keys?member_id={colleague.id}").json["items"] == []
    assert colleague.api.delete(f"/api/v1/auth/api-keys/{attackers['id']}").status_code == 404


def test_a_key_scoped_below_member_write_cannot_list_another_members_keys(tenant, psa):
    tech, _ = _compromised(tenant)
    reader = tenant.api.post("/api/v1/auth/api-keys", json={"name": "Sync", "scopes": ["member:read"]}).json

    refused = _sign_in_with_key(psa, reader["key"]).get(f"/api/v1/auth/api-keys?member_id={tech.id}")

    assert refused.status_code == 403, refused.json


def test_another_msps_admin_can_neither_list_nor_revoke_the_members_keys(tenant, other_tenant, psa):
    tech, attackers = _compromised(tenant)

    listed = other_tenant.api.get(f"/api/v1/auth/api-keys?member_id={tech.id}")
    revoked = other_tenant.api.delete(f"/api/v1/auth/api-keys/{attackers['id']}")

    for response in (listed, revoked):
        assert response.status_code == 404 and response.content_type == "application/problem+json", response.json
    assert _exchanged(psa, attackers) == 200
    assert psa.emitted("api_key.revoked") == []


def test_a_member_id_that_names_nobody_is_404_not_an_empty_list(tenant):
    # an empty list would read as "no keys to revoke" after a typo in the id
    nobody = tenant.api.get("/api/v1/auth/api-keys?member_id=0190a0a0-0000-7000-8000-000000000000")
    malformed = tenant.api.get("/api/v1/auth/api-keys?member_id=victim")

    assert nobody.status_code == 404, nobody.json
    assert malformed.status_code == 422 and "member_id" in malformed.json["errors"], malformed.json
