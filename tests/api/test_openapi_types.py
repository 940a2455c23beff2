"""The OpenAPI documents say what each value is, so a client generated from them can rely on them:
every property and parameter has a type, and rules the validators hold (not blank, one of two
fields) are in the document too. Until 2026-11-28 a computed field (`fields.Function`), a custom
one or a plain validator function reached the document as `{}` or without the rule."""

import re

import pytest

SERVICES = ("tickets", "docs_vault")
TYPED = {"type", "$ref", "allOf", "oneOf", "anyOf"}
# Where any JSON value is right: a plugin's settings are checked by the plugin's own schema, which
# the document cannot know (psa_tenant_settings_schema); a JSON Web Key's members are RFC 7517's,
# not all strings (`key_ops` is an array), and a client reads them with a JOSE library anyway.
ANY_VALUE = {
    ("tickets", "PluginSettings.settings.additionalProperties"),
    ("tickets", "PluginSettingsInput.settings.additionalProperties"),
    ("tickets", "Jwks.keys.items.additionalProperties"),
}
NAMES = [
    ("ApiKey", "name"),
    ("NewApiKey", "name"),
    ("Board", "name"),
    ("BoardPatch", "name"),
    ("Status", "name"),
    ("Client", "name"),
    ("ClientPatch", "name"),
    ("Contact", "name"),
    ("ContactPatch", "name"),
    ("Member", "name"),
    ("MemberPatch", "name"),
    ("Project", "name"),
    ("ProjectPatch", "name"),
    ("Phase", "name"),
    ("Task", "name"),
    ("TaskPatch", "name"),
    ("TicketInput", "summary"),
    ("TicketPatch", "summary"),  # a generated client's name for the PATCH body (TicketPatchPatch until 2026-11-28)
    ("Note", "text"),
]


def document(psa, service: str) -> dict:
    return psa.http.get(f"/openapi/{service}.json").json


def untyped(schema: dict, where: str):
    """Every place under `schema` (properties, array items, map values) a value has no type."""
    if not TYPED & schema.keys():
        yield where
    for name, inner in schema.get("properties", {}).items():
        yield from untyped(inner, f"{where}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from untyped(schema[key], f"{where}.{key}")


def test_every_property_and_parameter_in_both_documents_has_a_type(psa):
    missing = []
    for service in SERVICES:
        spec = document(psa, service)
        for name, schema in spec["components"]["schemas"].items():
            for field, inner in schema.get("properties", {}).items():
                missing += [(service, where) for where in untyped(inner, f"{name}.{field}")]
        for path, item in spec["paths"].items():  # path parameters are the item's, the rest each operation's
            operations = [operation for key, operation in item.items() if key != "parameters"]
            for parameter in [*item.get("parameters", []), *(p for op in operations for p in op.get("parameters", []))]:
                where = f"{path} {parameter['in']} {parameter['name']}"
                missing += [(service, found) for found in untyped(parameter["schema"], where)]
    assert sorted(set(missing) - ANY_VALUE) == []


def test_the_ticket_list_filter_by_assignee_is_documented_as_a_member_id_or_unassigned(psa, tenant):
    (parameter,) = [
        p
        for p in document(psa, "tickets")["paths"]["/api/v1/tickets"]["get"]["parameters"]
        if p["name"] == "assignee_id"
    ]
    schema = parameter["schema"]
    assert schema["type"] == "string"
    assert {"format": "uuid"} in schema["anyOf"] and {"enum": ["unassigned"]} in schema["anyOf"]
    member_id = tenant.api.get("/api/v1/members").json["items"][0]["id"]
    for value in ("unassigned", member_id):
        assert tenant.api.get("/api/v1/tickets", query_string={"assignee_id": value}).status_code == 200
    assert tenant.api.get("/api/v1/tickets", query_string={"assignee_id": "nobody"}).status_code == 422


@pytest.mark.parametrize("schema, field", NAMES)
def test_a_name_is_documented_as_not_blank_as_it_is_refused(psa, schema, field):
    documented = document(psa, "tickets")["components"]["schemas"][schema]["properties"][field]
    assert documented["minLength"] == 1
    pattern = re.compile(documented["pattern"])  # JSON Schema patterns search, as re.search does
    assert pattern.search(" \t\n") is None and pattern.search("  Service Desk ")


def test_the_rules_across_two_fields_are_in_their_descriptions(psa):
    spec = document(psa, "tickets")
    booking = spec["components"]["schemas"]["Schedule"]["properties"]
    for field in ("ticket_id", "task_id"):
        assert "exactly one of ticket_id and task_id" in booking[field]["description"]
    work = {p["name"]: p for p in spec["paths"]["/api/v1/work"]["get"]["parameters"]}
    assert "not with unassigned=true" in work["member_id"]["description"]
    assert "not with member_id" in work["unassigned"]["description"]
