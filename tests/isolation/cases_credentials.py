"""Cross-tenant cases for the vault's credential, audit and at-risk routes."""


def seed(b, psa) -> dict:
    client = b.client("B's vaulted client")
    psa.settle()  # the vault learns B's admin and client from events
    credential = b.api.post(
        "/api/v1/credentials", json={"client_id": client["id"], "name": "B firewall", "secret": "b-only"}
    ).json
    b.api.post(f"/api/v1/credentials/{credential['id']}/reveal", json={"reason": "seed"})
    return {"vault_client": client["id"], "credential": credential["id"], "vault_member": b.admin_id}


def WATCH(ids):  # noqa: N802  (a constant-like hook of every cases module)
    return [
        f"/api/v1/credentials/{ids['credential']}",
        "/api/v1/credentials/settings",
        f"/api/v1/audit?client_id={ids['vault_client']}",
        f"/api/v1/reports/at-risk?member={ids['vault_member']}",
    ]


ROUTES = {
    ("GET", "/api/v1/credentials"): lambda ids: {"path": "/api/v1/credentials", "expect": "list"},
    ("POST", "/api/v1/credentials"): lambda ids: {
        "path": "/api/v1/credentials",
        "json": {"client_id": ids["vault_client"], "name": "planted", "secret": "x"},
        "expect": 422,
    },
    ("GET", "/api/v1/credentials/settings"): lambda ids: {"path": "/api/v1/credentials/settings", "expect": 200},
    ("PUT", "/api/v1/credentials/settings"): lambda ids: {
        "path": "/api/v1/credentials/settings",
        "json": {"reveal_limit_per_hour": 1, "reason_required": True},
        "expect": 200,
    },
    ("POST", "/api/v1/credentials/export"): lambda ids: {
        "path": "/api/v1/credentials/export",
        "json": {"client_id": ids["vault_client"]},
        "expect": 422,
    },
    ("GET", "/api/v1/credentials/<uuid:credential_id>"): lambda ids: {
        "path": f"/api/v1/credentials/{ids['credential']}"
    },
    ("PATCH", "/api/v1/credentials/<uuid:credential_id>"): lambda ids: {
        "path": f"/api/v1/credentials/{ids['credential']}",
        "json": {"name": "Hijacked", "secret": "replaced"},
    },
    ("DELETE", "/api/v1/credentials/<uuid:credential_id>"): lambda ids: {
        "path": f"/api/v1/credentials/{ids['credential']}"
    },
    ("POST", "/api/v1/credentials/<uuid:credential_id>/reveal"): lambda ids: {
        "path": f"/api/v1/credentials/{ids['credential']}/reveal",
        "json": {"reason": "curious"},
    },
    ("GET", "/api/v1/audit"): lambda ids: {"path": "/api/v1/audit", "expect": "list"},
    ("GET", "/api/v1/reports/at-risk"): lambda ids: {
        "path": f"/api/v1/reports/at-risk?member={ids['vault_member']}",
        "expect": 422,
    },
}
