"""Bad input to the vault answers 422 naming the field, and writes nothing."""

import pytest

from psa_docs_vault.audit import AuditRow
from psa_docs_vault.credentials.models import Credential

from .credentials_kit import settle, store, vault_db

LONG = "x" * 10_001


def _nothing_written(psa, tenant_id, credentials: int = 0, audit_rows: int = 0):
    with vault_db(psa, tenant_id):
        assert Credential.select().count() == credentials
        assert AuditRow.select().count() == audit_rows
    outbox = psa.service("docs_vault").outbox.model
    with psa.service("docs_vault").db.proxy.connection_context():
        assert outbox.select().where(outbox.type.startswith("credential.")).count() == credentials


@pytest.mark.parametrize(
    "body, field",
    [
        ({"client_id": 123, "name": "n", "secret": "s"}, "client_id"),
        ({"client_id": "CLIENT", "name": 5, "secret": "s"}, "name"),
        ({"client_id": "CLIENT", "name": "x" * 201, "secret": "s"}, "name"),
        ({"client_id": "CLIENT", "name": "n", "secret": LONG}, "secret"),
        ({"client_id": "CLIENT", "name": "n", "secret": "s", "password": "p"}, "password"),
        ({"client_id": "CLIENT", "name": "n"}, "secret"),
        ({"client_id": "CLIENT", "name": "n", "secret": "s", "url": ["a"]}, "url"),
        ({"client_id": "01900000-0000-7000-8000-000000000000", "name": "n", "secret": "s"}, "client_id"),
        ({"client_id": "CLIENT", "name": "n", "secret": "s", "configuration_id": "not-a-uuid"}, "configuration_id"),
        (
            {
                "client_id": "CLIENT",
                "name": "n",
                "secret": "s",
                "configuration_id": "01900000-0000-7000-8000-000000000000",
            },
            "configuration_id",
        ),
    ],
)
def test_bad_credential_input_is_422_naming_the_field_and_nothing_is_written(psa, tenant, body, field):
    client = tenant.client()
    settle(psa)
    body = {k: (client["id"] if v == "CLIENT" else v) for k, v in body.items()}
    response = tenant.api.post("/api/v1/credentials", json=body)
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    assert field in response.json["errors"]
    _nothing_written(psa, tenant.id)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"client_id": "01900000-0000-7000-8000-000000000000"}, "client_id"),
        ({"secret": LONG}, "secret"),
        ({"name": ""}, "name"),
        ({"notes": 12}, "notes"),
    ],
)
def test_bad_updates_are_422_and_leave_the_credential_as_it_was(psa, tenant, body, field):
    client = tenant.client()
    settle(psa)
    credential = store(tenant.api, client["id"])
    response = tenant.api.patch(f"/api/v1/credentials/{credential['id']}", json=body)
    assert response.status_code == 422 and field in response.json["errors"]
    assert tenant.api.get(f"/api/v1/credentials/{credential['id']}").json == credential
    _nothing_written(psa, tenant.id, credentials=1, audit_rows=1)


def test_bad_reveal_export_and_settings_input_is_422_and_not_audited(psa, tenant):
    client = tenant.client()
    settle(psa)
    credential = store(tenant.api, client["id"])
    cases = [
        ("post", f"/api/v1/credentials/{credential['id']}/reveal", {"reason": "r" * 501}, "reason"),
        ("post", f"/api/v1/credentials/{credential['id']}/reveal", {"reason": 3}, "reason"),
        ("post", f"/api/v1/credentials/{credential['id']}/reveal", {"why": "x"}, "why"),
        ("post", "/api/v1/credentials/export", {"client_id": "nope"}, "client_id"),
        (
            "put",
            "/api/v1/credentials/settings",
            {"reveal_limit_per_hour": 0, "reason_required": False},
            "reveal_limit_per_hour",
        ),
        (
            "put",
            "/api/v1/credentials/settings",
            {"reveal_limit_per_hour": 5, "reason_required": "maybe"},
            "reason_required",
        ),
        ("get", "/api/v1/audit?action=" + "a" * 30, None, "action"),
        ("get", "/api/v1/reports/at-risk?member=nobody", None, "member"),
        ("get", "/api/v1/credentials?client_id=nope", None, "client_id"),
    ]
    for method, path, body, field in cases:
        response = getattr(tenant.api, method)(path, json=body)
        assert response.status_code == 422, (path, body, response.json)
        assert field in response.json["errors"], (path, response.json)
    _nothing_written(psa, tenant.id, credentials=1, audit_rows=1)
    assert tenant.api.get("/api/v1/credentials/settings").json == {
        "reveal_limit_per_hour": 60,
        "reason_required": False,
    }


def test_reason_required_set_to_yes_is_refused_not_read_as_true(psa, tenant):
    settle(psa)
    response = tenant.api.put(
        "/api/v1/credentials/settings", json={"reveal_limit_per_hour": 60, "reason_required": "yes"}
    )
    assert response.status_code == 422 and "reason_required" in response.json["errors"]
    assert tenant.api.get("/api/v1/credentials/settings").json["reason_required"] is False


def test_admin_exports_every_client_without_a_body_as_documented(psa, tenant):
    client = tenant.client()
    settle(psa)
    store(tenant.api, client["id"])
    assert len(tenant.api.post("/api/v1/credentials/export").json["items"]) == 1
    operation = psa.http.get("/openapi/docs_vault.json").json["paths"]["/api/v1/credentials/export"]["post"]
    assert operation["requestBody"].get("required") is not True


def test_credential_patch_without_a_body_keeps_every_field_as_documented(psa, tenant):
    client = tenant.client()
    settle(psa)
    credential = store(tenant.api, client["id"])
    patched = tenant.api.patch(f"/api/v1/credentials/{credential['id']}").json
    assert patched | {"updated_at": None} == credential | {"updated_at": None}
    paths = psa.http.get("/openapi/docs_vault.json").json["paths"]
    patches = [ops["patch"] for ops in paths.values() if "patch" in ops]
    assert patches and all(not op["requestBody"].get("required") for op in patches)


def test_attachment_upload_is_documented_as_needing_its_file(psa):
    paths = psa.http.get("/openapi/docs_vault.json").json["paths"]
    body = paths["/api/v1/configurations/{configuration_id}/attachments"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["multipart/form-data"]["schema"]["required"] == ["file"]
