"""Cross-tenant cases for the directory routes (members, clients, contacts, API keys)."""


def seed(b, psa) -> dict:
    client = b.client("B's client")
    contact = b.api.post("/api/v1/contacts", json={"client_id": client["id"], "name": "B contact"}).json
    member = b.member("technician")
    key = b.api.post("/api/v1/auth/api-keys", json={"name": "B key"}).json
    return {"client": client["id"], "contact": contact["id"], "member": member.id, "api_key": key["id"]}


def WATCH(ids):  # noqa: N802  (a constant-like hook of every cases module)
    return [
        f"/api/v1/clients/{ids['client']}",
        f"/api/v1/contacts/{ids['contact']}",
        f"/api/v1/members/{ids['member']}",
        f"/api/v1/members/{ids['member']}/grants",
    ]


ROUTES = {
    ("GET", "/api/v1/auth/me"): lambda ids: {"path": "/api/v1/auth/me", "expect": 200},
    ("GET", "/api/v1/auth/api-keys"): lambda ids: {"path": "/api/v1/auth/api-keys", "expect": "list"},
    ("POST", "/api/v1/auth/api-keys"): lambda ids: {
        "path": "/api/v1/auth/api-keys",
        "json": {"name": "k"},
        "expect": 201,
    },
    ("DELETE", "/api/v1/auth/api-keys/<uuid:key_id>"): lambda ids: {"path": f"/api/v1/auth/api-keys/{ids['api_key']}"},
    ("GET", "/api/v1/members"): lambda ids: {"path": "/api/v1/members", "expect": "list"},
    ("POST", "/api/v1/members"): lambda ids: {
        "path": "/api/v1/members",
        "json": {"email": "x@a.example", "name": "X", "role": "technician"},
        "expect": 201,
    },
    ("GET", "/api/v1/members/<uuid:member_id>"): lambda ids: {"path": f"/api/v1/members/{ids['member']}"},
    ("PATCH", "/api/v1/members/<uuid:member_id>"): lambda ids: {
        "path": f"/api/v1/members/{ids['member']}",
        "json": {"name": "Hijacked"},
    },
    ("POST", "/api/v1/members/<uuid:member_id>/deactivate"): lambda ids: {
        "path": f"/api/v1/members/{ids['member']}/deactivate"
    },
    ("GET", "/api/v1/members/<uuid:member_id>/grants"): lambda ids: {"path": f"/api/v1/members/{ids['member']}/grants"},
    ("PUT", "/api/v1/members/<uuid:member_id>/grants"): lambda ids: {
        "path": f"/api/v1/members/{ids['member']}/grants",
        "json": {"all_clients": True, "client_ids": []},
    },
    ("GET", "/api/v1/clients"): lambda ids: {"path": "/api/v1/clients", "expect": "list"},
    ("POST", "/api/v1/clients"): lambda ids: {"path": "/api/v1/clients", "json": {"name": "A's"}, "expect": 201},
    ("GET", "/api/v1/clients/<uuid:client_id>"): lambda ids: {"path": f"/api/v1/clients/{ids['client']}"},
    ("PATCH", "/api/v1/clients/<uuid:client_id>"): lambda ids: {
        "path": f"/api/v1/clients/{ids['client']}",
        "json": {"name": "Hijacked"},
    },
    ("GET", "/api/v1/contacts"): lambda ids: {"path": "/api/v1/contacts", "expect": "list"},
    ("POST", "/api/v1/contacts"): lambda ids: {
        "path": "/api/v1/contacts",
        "json": {"client_id": ids["client"], "name": "x"},
        "expect": 422,
    },
    ("GET", "/api/v1/contacts/<uuid:contact_id>"): lambda ids: {"path": f"/api/v1/contacts/{ids['contact']}"},
    ("PATCH", "/api/v1/contacts/<uuid:contact_id>"): lambda ids: {
        "path": f"/api/v1/contacts/{ids['contact']}",
        "json": {"name": "Hijacked"},
    },
}
