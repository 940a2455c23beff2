"""Every list reads the same way: `items`, and `next_cursor` beside them, null on the last page. An
integrator's one loop ("read on while next_cursor is not null") reads a tenant's boards or a
ticket's trail as it reads the ticket list; until 2026-11-28 the lists answered whole (boards,
statuses, API keys, plugin settings, the trail) had no `next_cursor` at all."""

from .test_openapi_types import SERVICES, document


def resolved(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_every_list_documents_next_cursor_beside_its_items(psa):
    lists, without = [], []
    for service in SERVICES:
        spec = document(psa, service)
        for path, item in spec["paths"].items():
            answer = item.get("get", {}).get("responses", {}).get("200", {})
            body = answer.get("content", {}).get("application/json", {}).get("schema")
            properties = resolved(spec, body or {}).get("properties", {})
            if properties.get("items", {}).get("type") == "array":
                lists.append(path)
                if "next_cursor" not in properties:
                    without.append(path)
    assert len(lists) > 20 and without == []


def test_a_list_answered_whole_ends_as_a_last_page_does(tenant):
    ticket = tenant.api.post("/api/v1/tickets", json={"client_id": tenant.client()["id"], "summary": "VPN down"}).json
    board = tenant.api.get("/api/v1/boards").json
    for path in (
        "/api/v1/boards",
        f"/api/v1/boards/{board['items'][0]['id']}/statuses",
        "/api/v1/auth/api-keys",
        "/api/v1/settings/plugins",
        f"/api/v1/tickets/{ticket['id']}/timeline",
    ):
        answer = tenant.api.get(path)
        assert answer.status_code == 200, (path, answer.json)
        assert answer.json["next_cursor"] is None and isinstance(answer.json["items"], list), path
