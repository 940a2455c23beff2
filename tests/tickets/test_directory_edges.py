"""Edges of the directory an MSP meets: who may hand out which keys, how the tenant keeps someone
able to manage it, and what odd input gets back (a 4xx naming the field, nothing written)."""

import uuid

import pytest

from tests.vault.credentials_kit import store


def _sign_in_with_key(psa, key: str):
    token = psa.http.post("/api/v1/auth/token", json={"api_key": key}).json["access_token"]
    return psa.http.as_token(token)


# --- API keys: a scoped key never makes a wider one -------------------------------------------------


def test_rmm_key_allowed_only_to_make_keys_cannot_make_one_with_the_admins_whole_role(tenant, psa):
    # The MSP gives its RMM a key that may only rotate its own keys; it leaks.
    rmm = tenant.api.post("/api/v1/auth/api-keys", json={"name": "RMM", "scopes": ["apikey:write"]}).json
    leaked = _sign_in_with_key(psa, rmm["key"])
    keys_before = len(tenant.api.get("/api/v1/auth/api-keys").json["items"])

    unscoped = leaked.post("/api/v1/auth/api-keys", json={"name": "all of the admin"})
    wider = leaked.post("/api/v1/auth/api-keys", json={"name": "vault", "scopes": ["apikey:write", "vault:export"]})

    for response in (unscoped, wider):
        assert response.status_code == 422, response.json
        assert response.content_type == "application/problem+json"
        assert "scopes" in response.json["errors"]
    assert len(tenant.api.get("/api/v1/auth/api-keys").json["items"]) == keys_before


def test_a_scoped_key_may_make_a_key_as_narrow_as_itself(tenant, psa):
    rmm = tenant.api.post("/api/v1/auth/api-keys", json={"name": "RMM", "scopes": ["apikey:write", "ticket:read"]})
    made = _sign_in_with_key(psa, rmm.json["key"]).post(
        "/api/v1/auth/api-keys", json={"name": "RMM 2", "scopes": ["ticket:read"]}
    )
    assert made.status_code == 201, made.json
    assert _sign_in_with_key(psa, made.json["key"]).get("/api/v1/auth/me").json["permissions"] == ["ticket:read"]


def test_a_leaked_read_only_key_cannot_revoke_the_members_other_integrations(tenant, psa):
    # The accounting sync's key may only read tickets; it leaks, and must not cut off the RMM.
    rmm = tenant.api.post("/api/v1/auth/api-keys", json={"name": "RMM"}).json
    sync = tenant.api.post("/api/v1/auth/api-keys", json={"name": "Sync", "scopes": ["ticket:read"]}).json
    leaked = _sign_in_with_key(psa, sync["key"])

    refused = leaked.delete(f"/api/v1/auth/api-keys/{rmm['id']}")

    assert refused.status_code == 403, refused.json
    assert refused.content_type == "application/problem+json"
    assert psa.http.post("/api/v1/auth/token", json={"api_key": rmm["key"]}).status_code == 200


def test_key_list_never_shows_a_secret_and_a_leavers_key_stops_working(tenant, psa):
    tech = tenant.member("technician")
    key = tech.api.post("/api/v1/auth/api-keys", json={"name": "Phone app"}).json["key"]
    listed = tech.api.get("/api/v1/auth/api-keys").json["items"]
    assert listed and all("key" not in item and key not in str(item) for item in listed)

    assert tenant.api.post(f"/api/v1/members/{tech.id}/deactivate").status_code == 200
    assert psa.http.post("/api/v1/auth/token", json={"api_key": key}).status_code == 401


# --- The last admin stays ---------------------------------------------------------------------------


def test_the_only_admin_cannot_demote_themselves_and_lock_the_msp_out(tenant, psa):
    updates_before = len(psa.emitted("member.updated"))

    demoted = tenant.api.patch(f"/api/v1/members/{tenant.admin_id}", json={"role": "technician"})

    assert demoted.status_code == 422, demoted.json
    assert demoted.content_type == "application/problem+json" and "role" in demoted.json["errors"]
    assert tenant.api.get(f"/api/v1/members/{tenant.admin_id}").json["role"] == "admin"
    assert len(psa.emitted("member.updated")) == updates_before


def test_the_only_admin_cannot_deactivate_themselves(tenant, psa):
    deactivated = tenant.api.post(f"/api/v1/members/{tenant.admin_id}/deactivate")

    assert deactivated.status_code == 409, deactivated.json
    assert deactivated.content_type == "application/problem+json"
    assert tenant.api.get(f"/api/v1/members/{tenant.admin_id}").json["active"] is True
    assert psa.emitted("member.deactivated") == []
    assert tenant.api.get("/api/v1/auth/me").status_code == 200  # still signed in


def test_with_a_second_admin_the_first_may_step_down_and_leave(tenant):
    second = tenant.member("admin")
    assert tenant.api.patch(f"/api/v1/members/{tenant.admin_id}", json={"role": "dispatcher"}).status_code == 200
    assert second.api.patch(f"/api/v1/members/{second.id}", json={"role": "technician"}).status_code == 422
    assert second.api.post(f"/api/v1/members/{tenant.admin_id}/deactivate").status_code == 200
    assert second.api.post(f"/api/v1/members/{second.id}/deactivate").status_code == 409


def test_a_deactivated_admin_does_not_count_as_the_one_left(tenant):
    gone = tenant.member("admin")
    assert tenant.api.post(f"/api/v1/members/{gone.id}/deactivate").status_code == 200
    assert tenant.api.patch(f"/api/v1/members/{tenant.admin_id}", json={"role": "billing"}).status_code == 422


def test_a_demoted_admin_sees_only_the_clients_granted_to_them(tenant, psa):
    """The MSP's co-founder steps back to bench work: as an admin she saw every client; as a
    technician she sees the clients granted to her, in tickets and in the vault, not all of them
    still (until 2026-11-27 `all_clients` outlived the role that gave it)."""
    acme, river = tenant.client("Acme Dental"), tenant.client("Riverside Law")
    cofounder = tenant.member("admin")
    assert cofounder.api.get("/api/v1/auth/me").json["all_clients"] is True
    demoted = tenant.api.patch(f"/api/v1/members/{cofounder.id}", json={"role": "technician"})
    assert demoted.status_code == 200, demoted.json
    grants = tenant.api.get(f"/api/v1/members/{cofounder.id}/grants").json
    assert grants == {"all_clients": False, "client_ids": []}
    body = {"all_clients": False, "client_ids": [acme["id"]]}
    assert tenant.api.put(f"/api/v1/members/{cofounder.id}/grants", json=body).status_code == 200
    psa.settle()
    assert [c["name"] for c in cofounder.api.get("/api/v1/clients").json["items"]] == ["Acme Dental"]
    assert cofounder.api.get(f"/api/v1/clients/{river['id']}").status_code == 404
    store(tenant.api, river["id"], name="Riverside firewall admin")
    store(tenant.api, acme["id"], name="Acme firewall admin")
    assert [c["name"] for c in cofounder.api.get("/api/v1/credentials").json["items"]] == ["Acme firewall admin"]


def test_a_promoted_technician_keeps_their_grants_until_widened(tenant):
    acme = tenant.client("Acme Dental")
    tech = tenant.member("technician", grants=[acme["id"]])
    assert tenant.api.patch(f"/api/v1/members/{tech.id}", json={"role": "admin"}).status_code == 200
    grants = tenant.api.get(f"/api/v1/members/{tech.id}/grants").json
    assert grants == {"all_clients": False, "client_ids": [acme["id"]]}


def test_two_admins_demoting_each_other_at_once_leave_one_admin(tenant, psa):
    second = tenant.member("admin")
    second_demoted = ("UPDATE member SET role = %s WHERE id = %s", ("technician", uuid.UUID(second.id)))

    demoted = psa.meanwhile(
        "tickets",
        [second_demoted],
        lambda: tenant.api.patch(f"/api/v1/members/{tenant.admin_id}", json={"role": "technician"}),
    )

    assert demoted.status_code == 422, demoted.json
    assert tenant.api.get(f"/api/v1/members/{tenant.admin_id}").json["role"] == "admin"


# --- Odd input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["99999999999999999999999", "2147483648", "0", "-1"])
def test_looking_up_a_client_number_beyond_any_client_is_422_naming_number(tenant, number):
    response = tenant.api.get(f"/api/v1/clients?number={number}")
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json" and "number" in response.json["errors"]


def test_looking_up_client_number_one(tenant):
    tenant.client("Acme Dental")
    assert [c["name"] for c in tenant.api.get("/api/v1/clients?number=1").json["items"]] == ["Acme Dental"]


def test_a_password_change_signs_out_every_token_and_the_api_keys_mint_new_ones(tenant, psa):
    tech = tenant.member("technician", password="old password 1")
    made = tech.api.post("/api/v1/auth/api-keys", json={"name": "RMM feed", "scopes": ["ticket:read"]})
    assert made.status_code == 201, made.json
    rmm = _sign_in_with_key(psa, made.json["key"])
    assert rmm.get("/api/v1/tickets").status_code == 200
    changed = tenant.api.patch(f"/api/v1/members/{tech.id}", json={"password": "new password 2"})
    assert changed.status_code == 200, changed.json
    assert tech.api.get("/api/v1/tickets").status_code == 401
    assert rmm.get("/api/v1/tickets").status_code == 401
    assert _sign_in_with_key(psa, made.json["key"]).get("/api/v1/tickets").status_code == 200
    listed = tech.api.get("/api/v1/auth/api-keys")
    assert listed.status_code == 401  # the old token is gone; the new password lists the keys
    fresh = psa.http.post(
        "/api/v1/auth/token", json={"tenant": tenant.id, "email": tech.email, "password": "new password 2"}
    ).json["access_token"]
    keys = psa.http.as_token(fresh).get("/api/v1/auth/api-keys").json["items"]
    assert [key["name"] for key in keys] == ["RMM feed"]


def test_a_technician_reading_a_colleagues_grants_sees_only_the_clients_they_see_themselves(tenant):
    dental, law = tenant.client("Dental"), tenant.client("Law firm")
    tom = tenant.member("technician", grants=[dental["id"]])
    ann = tenant.member("technician", grants=[dental["id"], law["id"]])
    assert tom.api.get(f"/api/v1/clients/{law['id']}").status_code == 404
    seen_by_tom = tom.api.get(f"/api/v1/members/{ann.id}/grants")
    assert seen_by_tom.status_code == 200
    assert seen_by_tom.json == {"all_clients": False, "client_ids": [dental["id"]]}
    seen_by_admin = tenant.api.get(f"/api/v1/members/{ann.id}/grants").json  # an admin replaces what they read
    assert sorted(seen_by_admin["client_ids"]) == sorted([dental["id"], law["id"]])
