"""The directory as an MSP uses it: members, grants, clients, contacts, sign-in."""


def test_admin_adds_a_client_and_sees_it_listed(tenant):
    acme = tenant.client("Acme Dental")
    listed = tenant.api.get("/api/v1/clients").json
    assert [c["name"] for c in listed["items"]] == ["Acme Dental"]
    assert listed["next_cursor"] is None
    assert acme["number"] == 1


def test_tech_granted_two_of_ten_clients_sees_exactly_two(tenant):
    clients = [tenant.client(f"Client {i}") for i in range(10)]
    tech = tenant.member("technician", grants=[clients[0]["id"], clients[1]["id"]])
    seen = tech.api.get("/api/v1/clients?limit=200").json["items"]
    assert {c["id"] for c in seen} == {clients[0]["id"], clients[1]["id"]}
    assert tech.api.get(f"/api/v1/clients/{clients[5]['id']}").status_code == 404


def test_deactivated_member_token_fails_at_once(tenant):
    tech = tenant.member("technician")
    assert tech.api.get("/api/v1/auth/me").status_code == 200
    assert tenant.api.post(f"/api/v1/members/{tech.id}/deactivate").status_code == 200
    assert tech.api.get("/api/v1/auth/me").status_code == 401


def test_password_sign_in_and_api_key_exchange(tenant, psa):
    made = tenant.api.post("/api/v1/auth/api-keys", json={"name": "RMM sync", "scopes": ["ticket:read"]})
    assert made.status_code == 201
    key = made.json["key"]
    token = psa.http.post("/api/v1/auth/token", json={"api_key": key}).json["access_token"]
    me = psa.http.as_token(token).get("/api/v1/auth/me").json
    assert me["permissions"] == ["ticket:read"]
    assert "key" not in tenant.api.get("/api/v1/auth/api-keys").json["items"][0]
    tenant.api.delete(f"/api/v1/auth/api-keys/{made.json['id']}")
    assert psa.http.post("/api/v1/auth/token", json={"api_key": key}).status_code == 401


def test_new_api_key_never_used_nor_revoked_reads_as_the_api_documents(tenant, psa):
    made = tenant.api.post("/api/v1/auth/api-keys", json={"name": "RMM sync"}).json
    assert made["last_used_at"] is None and made["revoked_at"] is None
    documented = psa.http.get("/openapi/tickets.json").json["components"]["schemas"]["ApiKey"]["properties"]
    assert "null" in documented["last_used_at"]["type"] and "null" in documented["revoked_at"]["type"]


def test_token_verifier_fetches_jwks_without_a_token_as_documented(psa):
    response = psa.http.get("/.well-known/jwks.json")
    assert response.status_code == 200 and response.json["keys"][0]["crv"] == "Ed25519"
    operation = psa.http.get("/openapi/tickets.json").json["paths"]["/.well-known/jwks.json"]["get"]
    assert operation["security"] == [] and "200" in operation["responses"]


def test_dispatcher_sets_capacity_in_hours_within_documented_numeric_bounds(tenant, psa):
    tech = tenant.member("technician")
    changed = tenant.api.patch(f"/api/v1/members/{tech.id}", json={"weekly_capacity_hours": "37.5"})
    assert changed.json["weekly_capacity_hours"] == "37.50"
    documented = psa.http.get("/openapi/tickets.json").json["components"]["schemas"]["Member"]["properties"]
    assert (documented["weekly_capacity_hours"]["minimum"], documented["weekly_capacity_hours"]["maximum"]) == (0, 168)


def test_capacity_that_is_no_whole_number_of_minutes_is_refused_not_rounded(tenant):
    """37.51 h is 2,250.6 minutes. Until 2026-11-28 it was kept as 2,251 and read back as 37.52
    (0.005 h as 0): now it is refused, naming the field and two values that are kept exactly."""
    tech = tenant.member("technician")
    path = f"/api/v1/members/{tech.id}"
    for sent, nearest in (("37.51", "37.50 or 37.55"), ("0.005", "0.00 or 0.05"), (37.549, "37.50 or 37.55")):
        refused = tenant.api.patch(path, json={"weekly_capacity_hours": sent})
        assert refused.status_code == 422 and refused.content_type == "application/problem+json"
        assert nearest in refused.json["errors"]["weekly_capacity_hours"][0], refused.json
    assert tenant.api.get(path).json["weekly_capacity_hours"] == "40.00"  # nothing written
    for sent, read in (("37.55", "37.55"), (7.25, "7.25"), ("0.05", "0.05"), ("168", "168.00")):
        assert tenant.api.patch(path, json={"weekly_capacity_hours": sent}).json["weekly_capacity_hours"] == read
    made = tenant.api.post("/api/v1/members", json={"email": "x@msp.example", "role": "technician",
                                                     "weekly_capacity_hours": "12.34"})  # fmt: skip
    assert made.status_code == 422 and "weekly_capacity_hours" in made.json["errors"]
