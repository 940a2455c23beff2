"""What an API client meets at the HTTP edge when it gets something wrong: every mistake is a 4xx
problem+json that says what to fix (never a 500), with the headers HTTP promises alongside; and
tokens the issuer signs are accepted by every service from the first one on."""

import dataclasses
import io
import json

import pytest

from psa_tickets.testing import make_tenant


def is_problem(response, status: int) -> bool:
    return response.status_code == status and response.content_type == "application/problem+json"


def test_a_wrong_method_is_a_405_that_says_which_methods_the_route_takes(tenant):
    response = tenant.api.put("/api/v1/clients")
    assert is_problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


@pytest.mark.parametrize(
    ("what", "body"),
    [
        (
            "nested deeper than the parser's stack",
            b'{"name": "Acme", "notes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        ),
        ("an integer of 5,000 digits", b'{"name": "Acme", "notes": 1' + b"0" * 5_000 + b"}"),
    ],
)
def test_json_past_what_the_parser_reads_is_a_400_not_a_crash(tenant, what, body):
    response = tenant.api.post("/api/v1/clients", data=body, content_type="application/json")
    assert is_problem(response, 400), what
    assert tenant.api.get("/api/v1/clients").json["items"] == []


@pytest.mark.parametrize("body", [b"[]", b'"Acme"', b"42", b"null"])
def test_a_body_that_is_not_an_object_is_a_422_naming_the_body(tenant, body):
    # Named as a NUL in a body that is one string is: `body`, not marshmallow's `_schema`.
    response = tenant.api.post("/api/v1/clients", data=body, content_type="application/json")
    assert is_problem(response, 422)
    assert list(response.json["errors"]) == ["body"]


def test_a_lone_surrogate_in_a_string_is_a_422_naming_the_field(tenant):
    # "\ud800" is valid JSON syntax but no character: neither database can store it.
    response = tenant.api.post("/api/v1/clients", data=b'{"name": "Acme \\ud800"}', content_type="application/json")
    assert is_problem(response, 422)
    assert "name" in response.json["errors"]
    assert tenant.api.get("/api/v1/clients").json["items"] == []


def test_a_client_name_with_an_emoji_written_as_a_surrogate_pair_is_kept(tenant):
    response = tenant.api.post(
        "/api/v1/clients", data=b'{"name": "Fun IT \\ud83d\\ude00"}', content_type="application/json"
    )
    assert response.status_code == 201 and response.json["name"] == "Fun IT \U0001f600"


@pytest.mark.parametrize(
    "body",
    [
        b'{"api_key": "psa_0123456789abcdef0123456789abcdef_\\udc00"}',
        b'{"tenant": "01a21b05-925e-7a8f-9896-8c91ddcdf138", "email": "a@msp.example", "password": "\\ud800 pass"}',
    ],
)
def test_signing_in_with_a_lone_surrogate_is_a_422_not_a_crash(psa, body):
    response = psa.http.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert is_problem(response, 422)


def test_a_json_body_sent_as_another_media_type_is_refused_not_silently_ignored(tenant):
    # curl -d without -H sends form encoding: the rename used to answer 200 and change nothing.
    client = tenant.client("Acme Dental")
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        response = tenant.api.patch(
            f"/api/v1/clients/{client['id']}", data=b'{"name": "Acme Dental Group"}', content_type=content_type
        )
        assert is_problem(response, 415), content_type
    assert tenant.api.get(f"/api/v1/clients/{client['id']}").json["name"] == "Acme Dental"


def test_a_json_media_type_with_a_suffix_or_parameters_is_still_json(tenant):
    client = tenant.client("Acme Dental")
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = tenant.api.patch(
            f"/api/v1/clients/{client['id']}", data=b'{"name": "Acme Dental Group"}', content_type=content_type
        )
        assert response.status_code == 200, content_type


def test_a_request_without_a_body_still_needs_no_content_type(tenant):
    client = tenant.client("Acme Dental")
    assert tenant.api.patch(f"/api/v1/clients/{client['id']}").status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic YWRtaW46YWRtaW4=", "Bearer not.a.token", "Bearer eyJhbGciOiJub25lIn0.e30."],
)
def test_every_refused_token_tells_the_client_to_send_a_bearer_token(psa, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = psa.http.get("/api/v1/clients", headers=headers)
    assert is_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_deactivated_members_token_is_refused_with_a_bearer_challenge(tenant):
    tech = tenant.member("technician")
    assert tenant.api.post(f"/api/v1/members/{tech.id}/deactivate").status_code == 200
    response = tech.api.get("/api/v1/clients")
    assert is_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_on_a_fresh_install_served_as_one_app_the_vault_accepts_the_first_tokens_issued(bus, tmp_path):
    # `psa_shared.wsgi.create_app()` builds the services by name: the vault read the (not yet
    # written) public key before the tickets service generated the signing key, and refused
    # every token as "signed with an unknown key" until it was restarted.
    bus.settings = dataclasses.replace(bus.settings, keys_dir=tmp_path / "fresh-keys")
    assert bus.http  # every app built on an empty keys dir
    tenant = make_tenant(bus)
    bus.settle()
    assert tenant.api.get("/api/v1/configurations").status_code == 200


class SlowBody(io.BytesIO):
    """A sign-in body still arriving: notes whether the tickets service held a database
    connection while its request waited for it."""

    def __init__(self, body: bytes, database):
        super().__init__(body)
        self.database, self.connected_meanwhile = database, []

    def _arriving(self) -> None:
        self.connected_meanwhile.append(not self.database.proxy.is_closed())

    def read(self, *args):
        self._arriving()
        return super().read(*args)

    def readinto(self, buffer):
        self._arriving()
        return super().readinto(buffer)


def test_a_client_still_sending_its_body_holds_no_database_connection(psa, tenant):
    """Until 2026-11-28 every request took a pooled connection before anything else: 32 clients
    trickling a sign-in body, needing no token, left none for anyone (503) and stopped the relay."""
    body = json.dumps({"tenant": tenant.id, "email": "nobody@example.com", "password": "wrong-password"}).encode()
    slow = SlowBody(body, psa.service("tickets").db)
    answer = psa.http.post(
        "/api/v1/auth/token", input_stream=slow, content_length=len(body), content_type="application/json"
    )
    assert answer.status_code == 401, answer.json
    assert slow.connected_meanwhile and not any(slow.connected_meanwhile)
