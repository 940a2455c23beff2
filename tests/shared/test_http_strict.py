"""The HTTP edge held to what it promises: the all-in-one router answers in problem+json as the
services do, request bodies take integers as JSON integers only, a signed token with malformed
claims is a 401 (not a 500), and a parameter given twice is refused rather than half read."""

import uuid

import jwt
import pytest
from marshmallow import fields

from psa_shared.auth import KeyRing

from .test_http_hunt import is_problem

# --- the router's own answers (`psa_shared.runtime.Router`) ----------------------------------


def test_a_path_no_service_serves_is_a_404_problem_as_the_services_send(psa):
    response = psa.http.get("/api/v1/nowhere")
    assert is_problem(response, 404)
    assert set(response.json) == {"type", "title", "status", "detail"} and response.json["status"] == 404


def test_healthz_answers_get_and_head_the_second_without_a_body(psa):
    got = psa.http.get("/healthz")
    assert got.status_code == 200 and got.json == {"status": "ok", "services": ["docs_vault", "tickets"]}
    head = psa.http.open("HEAD", "/healthz")
    assert head.status_code == 200 and head.content_type == "application/json" and head.data == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_healthz_refuses_other_methods_with_a_405_that_says_which_it_takes(psa, method):
    response = psa.http.open(method, "/healthz")
    assert is_problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD"}


# --- integers in request bodies ------------------------------------------------------------------


def _integers(schema, path=""):
    """Every Integer field a schema loads, with its dotted path, through lists and nested schemas."""
    for name, field in schema.load_fields.items():
        while isinstance(field, fields.List):
            field = field.inner
        if isinstance(field, fields.Nested):
            yield from _integers(field.schema, f"{path}{name}.")
        elif isinstance(field, fields.Integer):
            yield f"{path}{name}", field


def _body_schemas(app):
    """The schemas an app's routes read JSON bodies with (as flask-smorest records them on each view)."""
    for endpoint, view in app.view_functions.items():
        methods = (
            [getattr(view.view_class, m.lower()) for m in view.view_class.methods]
            if hasattr(view, "view_class")
            else [view]
        )
        for method in methods:
            for parameter in getattr(method, "_apidoc", {}).get("arguments", {}).get("parameters", []):
                if parameter["in"] == "json":
                    yield endpoint, parameter["schema"]


def test_every_integer_a_request_body_takes_is_strict(psa):
    # A lax Integer reads 1.9 as 1 and "30" as 30: the client's mistake stored as something it did
    # not send. Query strings arrive as text, so their integers are read from it (not checked here).
    lax = {
        f"{service}:{endpoint}:{path}"
        for service, app in psa.client().application.apps.items()
        for endpoint, schema in _body_schemas(app)
        for path, field in _integers(schema)
        if not field.strict
    }
    assert lax == set()


@pytest.mark.parametrize("limit", [1.9, "30", 30.0])
def test_a_reveal_limit_that_is_not_a_json_integer_is_refused_and_the_limit_kept(psa, tenant, limit):
    psa.settle()  # the vault learns the admin from events
    response = tenant.api.put(
        "/api/v1/credentials/settings", json={"reveal_limit_per_hour": limit, "reason_required": True}
    )
    assert is_problem(response, 422)
    assert list(response.json["errors"]) == ["reveal_limit_per_hour"]
    assert tenant.api.get("/api/v1/credentials/settings").json == {
        "reveal_limit_per_hour": 60,
        "reason_required": False,
    }


def test_integers_in_the_query_string_are_still_read_from_their_text(tenant):
    made = tenant.client("Acme Dental")
    found = tenant.api.get(f"/api/v1/clients?number={made['number']}&limit=5")
    assert found.status_code == 200 and [c["id"] for c in found.json["items"]] == [made["id"]]


# --- signed tokens with malformed claims -------------------------------------------------------


def _resigned(psa, token: str, **claims) -> str:
    """`token` with some claims replaced, signed with the tenant's real signing key: only the
    issuer could make it, but it should still never reach a 500."""
    ring = KeyRing.load(psa.settings, issuer=True)
    body = jwt.decode(token, options={"verify_signature": False}) | claims
    return jwt.encode(body, ring.private, algorithm="EdDSA", headers=jwt.get_unverified_header(token))


def test_a_token_resigned_unchanged_is_accepted(psa, tenant):
    psa.settle()
    api = psa.http.as_token(_resigned(psa, tenant.token))
    assert api.get("/api/v1/clients").status_code == 200
    assert api.get("/api/v1/configurations").status_code == 200


@pytest.mark.parametrize(
    "claims",
    [
        {"tid": "not-a-uuid"},
        {"tid": 5},
        {"sub": "nobody"},
        {"scp": "ticket:read"},  # a string, read as its characters: no permission at all
        {"scp": 5},
        {"scp": [{"ticket": "read"}]},
        {"scp": ["ticket:read", 5]},
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/clients", "/api/v1/configurations"])
def test_a_signed_token_with_malformed_claims_is_a_401_not_a_crash(psa, tenant, claims, path):
    psa.settle()
    response = psa.http.as_token(_resigned(psa, tenant.token, **claims)).get(path)
    assert is_problem(response, 401), response.data
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# --- repeated query parameters -----------------------------------------------------------------


@pytest.mark.parametrize(
    "query, name",
    [("limit=1&limit=2", "limit"), ("q=Acme&q=River", "q"), ("active=true&active=false", "active")],
)
def test_a_query_parameter_given_twice_is_a_422_naming_it(tenant, query, name):
    tenant.client("Acme Dental")
    response = tenant.api.get(f"/api/v1/clients?{query}")
    assert is_problem(response, 422)
    assert list(response.json["errors"]) == [name]


def test_a_renamed_query_parameter_given_twice_is_refused_by_the_name_the_client_sent(tenant):
    client = tenant.client("Acme Dental")
    response = tenant.api.get(
        f"/api/v1/clients/{client['id']}/activity-report.html?from=2026-01-01&from=2020-01-01&to=2026-12-31"
    )
    assert is_problem(response, 422)
    assert list(response.json["errors"]) == ["from"]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/tickets?status=New", "status"),  # the filter is status_id: the whole list answered 200
        ("/api/v1/clients?utm=a&utm=b", "utm"),
        ("/api/v1/work?unasigned=true", "unasigned"),
        ("/api/v1/schedule?limit=5&foo=bar", "foo"),
        ("/api/v1/credentials?foo=bar", "foo"),
        ("/api/v1/boards?foo=bar", "foo"),  # a route that reads no query string at all
    ],
)
def test_a_query_parameter_the_route_does_not_read_is_a_422_naming_it(psa, tenant, path, name):
    psa.settle()  # the vault learns the admin from events
    response = tenant.api.get(path)
    assert is_problem(response, 422)
    assert response.json["errors"] == {name: ["Unknown field."]}


def test_the_declared_query_parameters_of_a_print_route_still_pass(tenant):
    client = tenant.client("Acme Dental")
    response = tenant.api.get(f"/api/v1/clients/{client['id']}/activity-report.html?from=2026-01-01&to=2026-12-31")
    assert response.status_code == 200


def test_a_422_is_titled_alike_whether_the_schema_or_the_service_refused_it(tenant):
    """A client shows the title: a refused type (the schema's 422) read "Unprocessable Entity" and an
    unknown client (the service's) "Invalid input", for the same kind of problem."""
    by_schema = tenant.api.post("/api/v1/tickets", json={"client_id": "not an id", "summary": "VPN"})
    by_service = tenant.api.post("/api/v1/tickets", json={"client_id": str(uuid.uuid4()), "summary": "VPN"})
    assert [r.json["title"] for r in (by_schema, by_service)] == ["Invalid input", "Invalid input"]
