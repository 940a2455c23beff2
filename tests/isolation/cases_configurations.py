"""Cross-tenant cases for the vault's configurations, their attachments and history."""

import io


def seed(b, psa) -> dict:
    client = b.client("B's vault client")
    psa.settle()  # the vault learns B's admin and client from events
    configuration = b.api.post(
        "/api/v1/configurations", json={"client_id": client["id"], "type": "firewall", "name": "B firewall"}
    ).json
    attachment = b.api.post(
        f"/api/v1/configurations/{configuration['id']}/attachments",
        data={"file": (io.BytesIO(b"license for B"), "b.lic")},
    ).json
    psa.settle()  # and tenant A's admin, who makes the requests
    return {"vault_client": client["id"], "configuration": configuration["id"], "attachment": attachment["id"]}


def WATCH(ids):  # noqa: N802  (a constant-like hook of every cases module)
    base = f"/api/v1/configurations/{ids['configuration']}"
    return [base, f"{base}/attachments", f"{base}/history"]


def _config(ids, suffix: str = "") -> str:
    return f"/api/v1/configurations/{ids['configuration']}{suffix}"


ROUTES = {
    ("GET", "/api/v1/configurations"): lambda ids: {"path": "/api/v1/configurations", "expect": "list"},
    ("POST", "/api/v1/configurations"): lambda ids: {
        "path": "/api/v1/configurations",
        "json": {"client_id": ids["vault_client"], "type": "server", "name": "x"},
        "expect": 422,
    },
    ("GET", "/api/v1/configurations/<uuid:configuration_id>"): lambda ids: {"path": _config(ids)},
    ("PATCH", "/api/v1/configurations/<uuid:configuration_id>"): lambda ids: {
        "path": _config(ids),
        "json": {"name": "Hijacked"},
    },
    ("DELETE", "/api/v1/configurations/<uuid:configuration_id>"): lambda ids: {"path": _config(ids)},
    ("GET", "/api/v1/configurations/<uuid:configuration_id>/history"): lambda ids: {"path": _config(ids, "/history")},
    ("GET", "/api/v1/configurations/<uuid:configuration_id>/attachments"): lambda ids: {
        "path": _config(ids, "/attachments")
    },
    ("POST", "/api/v1/configurations/<uuid:configuration_id>/attachments"): lambda ids: {
        "path": _config(ids, "/attachments")
    },
    ("GET", "/api/v1/configurations/<uuid:configuration_id>/attachments/<uuid:attachment_id>"): lambda ids: {
        "path": _config(ids, f"/attachments/{ids['attachment']}")
    },
    ("DELETE", "/api/v1/configurations/<uuid:configuration_id>/attachments/<uuid:attachment_id>"): lambda ids: {
        "path": _config(ids, f"/attachments/{ids['attachment']}")
    },
}
