"""Bad input gets a clear 4xx problem naming the field, and nothing is written."""

import pytest

from .projects_seed import project, task
from .test_boards_and_schedule_edges import refused
from .test_service_desk import open_ticket


def count(tenant, path):
    # the boards list is one page, and takes no `limit` (a parameter a route does not read is 422)
    query = "" if path == "/api/v1/boards" else "?limit=200"
    response = tenant.api.get(f"{path}{query}")
    assert response.status_code == 200, response.json
    return len(response.json["items"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "name": "X", "role": "technician"}, "email"),
        ({"email": "x@msp.example", "name": 42, "role": "technician"}, "name"),
        ({"email": "x@msp.example", "name": "X", "role": "wizard"}, "role"),
        ({"email": "x@msp.example", "name": "X"}, "role"),
        ({"email": "x@msp.example", "name": "X" * 201, "role": "technician"}, "name"),
        ({"email": "x@msp.example", "name": "X", "role": "technician", "salary": 1}, "salary"),
        (
            {"email": "x@msp.example", "name": "X", "role": "technician", "weekly_capacity_hours": 200},
            "weekly_capacity_hours",
        ),
        ({"email": "x@msp.example", "name": "X", "role": "technician", "password": "short"}, "password"),
    ],
)
def test_bad_member_is_refused_naming_the_field(tenant, body, field):
    before = count(tenant, "/api/v1/members")
    response = tenant.api.post("/api/v1/members", json=body)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in response.json["errors"]
    assert count(tenant, "/api/v1/members") == before


def test_malformed_json_is_a_400_problem(tenant):
    response = tenant.api.post("/api/v1/clients", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert count(tenant, "/api/v1/clients") == 0


def test_contact_for_another_tenants_client_names_client_id(tenant, other_tenant):
    theirs = other_tenant.client("Theirs")
    response = tenant.api.post("/api/v1/contacts", json={"client_id": theirs["id"], "name": "Sneaky"})
    assert response.status_code == 422 and "client_id" in response.json["errors"]
    assert count(tenant, "/api/v1/contacts") == 0


def test_grants_naming_another_tenants_client_change_nothing(tenant, other_tenant):
    theirs = other_tenant.client("Theirs")
    tech = tenant.member("technician")
    response = tenant.api.put(
        f"/api/v1/members/{tech.id}/grants", json={"all_clients": False, "client_ids": [theirs["id"]]}
    )
    assert response.status_code == 422 and "client_ids" in response.json["errors"]
    assert tenant.api.get(f"/api/v1/members/{tech.id}/grants").json == {"all_clients": False, "client_ids": []}


def test_duplicate_email_is_refused(tenant):
    tenant.member("technician", email="tom@msp.example")
    response = tenant.api.post(
        "/api/v1/members", json={"email": "TOM@msp.example", "name": "Tom 2", "role": "technician"}
    )
    assert response.status_code == 422 and "email" in response.json["errors"]


def test_bad_cursor_and_limit_name_their_fields(tenant):
    assert "after" in tenant.api.get("/api/v1/clients?after=%%%").json["errors"]
    assert "limit" in tenant.api.get("/api/v1/clients?limit=0").json["errors"]


def test_missing_or_forged_token_is_401(tenant, psa):
    assert psa.http.get("/api/v1/clients").status_code == 401
    forged = tenant.token[:-4] + ("AAAA" if not tenant.token.endswith("AAAA") else "BBBB")
    assert psa.http.as_token(forged).get("/api/v1/clients").status_code == 401


def test_wrong_password_is_401_without_saying_which_part_was_wrong(tenant, psa):
    tenant.member("technician", email="tina@msp.example")
    response = psa.http.post(
        "/api/v1/auth/token", json={"tenant": tenant.id, "email": "tina@msp.example", "password": "nope"}
    )
    assert response.status_code == 401 and "wrong tenant, email or password" in response.json["detail"]


def test_read_only_member_cannot_add_clients(tenant):
    viewer = tenant.member("read-only", all_clients=True)
    assert viewer.api.post("/api/v1/clients", json={"name": "Nope"}).status_code == 403
    assert viewer.api.get("/api/v1/clients").status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/clients", {"name": "Dental Co", "active": 0}, "active"),
        ("/api/v1/boards", {"name": "Helpdesk", "is_default": 1}, "is_default"),
        ("/api/v1/projects", {"name": "Migration", "closed": "yes"}, "closed"),
    ],
)
def test_flag_sent_as_0_1_or_yes_is_refused_not_guessed(tenant, path, body, field):
    before = count(tenant, path)
    response = tenant.api.post(path, json=body)
    assert response.status_code == 422 and field in response.json["errors"]
    assert response.content_type == "application/problem+json"
    assert count(tenant, path) == before


def test_a_name_or_summary_of_only_spaces_is_refused_and_nothing_is_written(tenant):
    """A dispatcher tabs past the summary box, an admin saves a client named "   ": a ticket nobody
    can tell from the next, a client the picker shows as a gap. Every name the MSP reads things by
    is refused blank, as a note's text is, on create and on change."""
    acme = tenant.client("Acme")
    dana = tenant.api.post("/api/v1/contacts", json={"client_id": acme["id"], "name": "Dana"}).json
    ticket = open_ticket(tenant.api, acme["id"])
    desk = tenant.api.get("/api/v1/boards").json["items"][0]
    move = project(tenant.api, acme["id"])
    cabling = task(tenant.api, move["id"])
    tom = tenant.member("technician")
    for method, path, body, read in [
        ("post", "/api/v1/clients", {"name": "   "}, "/api/v1/clients"),
        ("patch", f"/api/v1/clients/{acme['id']}", {"name": " "}, None),
        ("post", "/api/v1/contacts", {"client_id": acme["id"], "name": "\t"}, "/api/v1/contacts"),
        ("patch", f"/api/v1/contacts/{dana['id']}", {"name": "  "}, None),
        ("post", "/api/v1/tickets", {"client_id": acme["id"], "summary": "  "}, "/api/v1/tickets"),
        ("patch", f"/api/v1/tickets/{ticket['id']}", {"summary": "   "}, None),
        ("post", "/api/v1/boards", {"name": " "}, "/api/v1/boards"),
        ("patch", f"/api/v1/boards/{desk['id']}", {"name": "\n"}, None),
        ("post", f"/api/v1/boards/{desk['id']}/statuses", {"name": " ", "kind": "open"}, None),
        ("post", "/api/v1/projects", {"client_id": acme["id"], "name": " "}, "/api/v1/projects"),
        ("patch", f"/api/v1/projects/{move['id']}", {"name": "  "}, None),
        ("post", f"/api/v1/projects/{move['id']}/phases", {"name": " "}, None),
        ("post", f"/api/v1/projects/{move['id']}/tasks", {"name": " "}, None),
        ("patch", f"/api/v1/tasks/{cabling['id']}", {"name": " "}, None),
        ("post", "/api/v1/members", {"email": "x@msp.example", "name": " ", "role": "technician"}, "/api/v1/members"),
        ("patch", f"/api/v1/members/{tom.id}", {"name": " "}, None),
        ("post", "/api/v1/auth/api-keys", {"name": " "}, "/api/v1/auth/api-keys"),
    ]:
        read = read or path
        before = tenant.api.get(read).json
        response = getattr(tenant.api, method)(path, json=body)
        field = next(iter(body.keys() - {"client_id", "email", "role", "kind"}))
        refused(response, field)
        assert response.json["errors"][field] == ["must not be blank"], (path, response.json)
        assert tenant.api.get(read).json == before, path
