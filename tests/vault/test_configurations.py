"""Configurations per client: documented, listed within grants, changed, retired; bad input refused."""

import json

import pytest

from psa_docs_vault.configurations.models import Configuration
from psa_shared.errors import flatten_errors
from psa_shared.tenancy import tenant_scope

URL = "/api/v1/configurations"


def firewall(client_id, **extra):
    return {
        "client_id": client_id,
        "type": "firewall",
        "name": "FW-01",
        "serial": "FGT60F-123",
        "manufacturer": "Fortinet",
        "model": "FortiGate 60F",
        "ip_addresses": ["192.168.1.1", "10.0.0.1"],
        "external_ip": "203.0.113.10",
        "location": "Server room",
        "warranty_end": "2027-03-31",
        "custom_fields": {"rack": "B2", "firmware": "7.2.8"},
        "notes": "Managed by us since 2024",
        **extra,
    }


def names_field(problem: dict, field: str) -> bool:
    """`ip_addresses.0` names `ip_addresses`: the index says which entry."""
    return any(key == field or key.startswith(field + ".") for key in problem.get("errors", {}))


def count_configurations(psa, tenant) -> int:
    with psa.service("docs_vault").db.proxy.connection_context(), tenant_scope(tenant.id):
        return Configuration.select().count()


def outbox_types(psa) -> list[str]:
    service = psa.service("docs_vault")
    with service.db.proxy.connection_context():
        return [row.type for row in service.outbox.model.select().order_by(service.outbox.model.created_at)]


def test_msp_documents_a_clients_firewall_and_reads_it_back(psa, tenant):
    client = tenant.client("Dental Practice")
    psa.settle()
    made = tenant.api.post(URL, json=firewall(client["id"]))
    assert made.status_code == 201, made.json
    body = made.json
    assert body["client_id"] == client["id"] and body["type"] == "firewall" and body["active"] is True
    assert body["ip_addresses"] == ["192.168.1.1", "10.0.0.1"] and body["external_ip"] == "203.0.113.10"
    assert body["model"] == "FortiGate 60F" and body["warranty_end"] == "2027-03-31"
    assert body["custom_fields"] == {"rack": "B2", "firmware": "7.2.8"}
    assert body["created_at"].endswith("Z")
    read = tenant.api.get(f"{URL}/{body['id']}")
    assert read.status_code == 200 and read.json == body
    assert outbox_types(psa) == ["configuration.created"]


def test_configuration_event_reaches_the_tickets_read_model(psa, tenant):
    client = tenant.client()
    psa.settle()
    made = tenant.api.post(URL, json=firewall(client["id"])).json
    psa.settle()
    from psa_tickets.servicedesk.models import ConfigurationRef

    with psa.service("tickets").db.proxy.connection_context(), tenant_scope(tenant.id):
        ref = ConfigurationRef.get_or_none(ConfigurationRef.id == made["id"])
    assert ref is not None and ref.name == "FW-01"


def test_changing_a_switch_records_the_change_and_emits_it(psa, tenant):
    client = tenant.client()
    psa.settle()
    made = tenant.api.post(URL, json={"client_id": client["id"], "type": "switch", "name": "SW-core"}).json
    changed = tenant.api.patch(
        f"{URL}/{made['id']}", json={"name": "SW-core-1", "ip_addresses": ["fd00::1"], "external_ip": None}
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["name"] == "SW-core-1" and changed.json["ip_addresses"] == ["fd00::1"]
    assert changed.json["serial"] is None
    assert outbox_types(psa) == ["configuration.created", "configuration.updated"]


def test_retired_workstation_stays_readable_but_inactive(psa, tenant):
    client = tenant.client()
    psa.settle()
    made = tenant.api.post(URL, json={"client_id": client["id"], "type": "workstation", "name": "PC-RECEPTION"}).json
    assert tenant.api.delete(f"{URL}/{made['id']}").status_code == 204
    read = tenant.api.get(f"{URL}/{made['id']}")
    assert read.status_code == 200 and read.json["active"] is False
    active = tenant.api.get(URL, query_string={"active": "true"}).json["items"]
    assert made["id"] not in {c["id"] for c in active}
    assert outbox_types(psa)[-1] == "configuration.updated"


def test_list_filters_by_client_type_and_search(psa, tenant):
    dental, law = tenant.client("Dental"), tenant.client("Law firm")
    psa.settle()
    for client, kind, name, serial in [
        (dental, "server", "DC01", "SRV-1"),
        (dental, "printer", "Reception printer", "HP-77"),
        (law, "server", "FILES", "SRV-2"),
    ]:
        body = {"client_id": client["id"], "type": kind, "name": name, "serial": serial}
        assert tenant.api.post(URL, json=body).status_code == 201

    def names(**query):
        response = tenant.api.get(URL, query_string=query)
        assert response.status_code == 200, response.json
        return sorted(c["name"] for c in response.json["items"])

    assert names(client_id=dental["id"]) == ["DC01", "Reception printer"]
    assert names(type="server") == ["DC01", "FILES"]
    assert names(q="HP-7") == ["Reception printer"]
    assert names(q="FIL", client_id=law["id"]) == ["FILES"]


def test_list_pages_with_a_cursor(psa, tenant):
    client = tenant.client()
    psa.settle()
    for n in range(5):
        tenant.api.post(URL, json={"client_id": client["id"], "type": "other", "name": f"Item {n}"})
    first = tenant.api.get(URL, query_string={"limit": 3}).json
    second = tenant.api.get(URL, query_string={"limit": 3, "after": first["next_cursor"]}).json
    assert len(first["items"]) == 3 and len(second["items"]) == 2 and second["next_cursor"] is None


def test_tech_granted_two_of_ten_clients_sees_exactly_their_configurations(psa, tenant):
    clients = [tenant.client(f"Client {n}") for n in range(10)]
    psa.settle()
    made = {}
    for client in clients:
        body = {"client_id": client["id"], "type": "server", "name": f"SRV {client['name']}"}
        made[client["id"]] = tenant.api.post(URL, json=body).json["id"]
    granted = [clients[2]["id"], clients[7]["id"]]
    tech = tenant.member("technician", grants=granted)
    psa.settle()
    seen = tech.api.get(URL, query_string={"limit": 200})
    assert seen.status_code == 200
    assert {c["client_id"] for c in seen.json["items"]} == set(granted)
    assert {c["id"] for c in seen.json["items"]} == {made[c] for c in granted}
    hidden = made[clients[0]["id"]]
    for method in ("get", "patch", "delete"):
        kwargs = {"json": {"name": "x"}} if method == "patch" else {}
        response = getattr(tech.api, method)(f"{URL}/{hidden}", **kwargs)
        assert response.status_code == 404, (method, response.json)
        assert response.content_type == "application/problem+json"
    assert tech.api.get(f"{URL}/{hidden}/history").status_code == 404
    assert tech.api.get(f"{URL}/{made[granted[0]]}").status_code == 200


def test_tech_cannot_document_a_configuration_for_a_client_outside_their_grants(psa, tenant):
    theirs, other = tenant.client(), tenant.client()
    tech = tenant.member("technician", grants=[theirs["id"]])
    psa.settle()
    refused = tech.api.post(URL, json={"client_id": other["id"], "type": "server", "name": "x"})
    assert refused.status_code == 422 and "client_id" in refused.json["errors"]
    mine = tech.api.post(URL, json={"client_id": theirs["id"], "type": "server", "name": "x"}).json
    moved = tech.api.patch(f"{URL}/{mine['id']}", json={"client_id": other["id"]})
    assert moved.status_code == 422 and "client_id" in moved.json["errors"]
    assert tech.api.get(f"{URL}/{mine['id']}").json["client_id"] == theirs["id"]


def test_tech_without_any_grant_sees_no_configuration(psa, tenant):
    client = tenant.client()
    psa.settle()
    made = tenant.api.post(URL, json={"client_id": client["id"], "type": "server", "name": "DC01"}).json
    tech = tenant.member("technician", grants=[])
    psa.settle()
    assert tech.api.get(URL).json["items"] == []
    assert tech.api.get(f"{URL}/{made['id']}").status_code == 404


def test_vault_refuses_a_member_it_has_not_heard_of_yet(psa, tenant):
    client = tenant.client()
    psa.settle()
    newcomer = tenant.member("technician", all_clients=True)  # no settle: the vault has no event yet
    response = newcomer.api.get(URL)
    assert response.status_code == 401
    assert newcomer.api.post(URL, json={"client_id": client["id"], "type": "server", "name": "x"}).status_code == 401
    psa.settle()
    assert newcomer.api.get(URL).status_code == 200


def test_client_the_vault_has_not_heard_of_is_refused(psa, tenant):
    psa.settle()
    fresh = tenant.client()  # the client.created event is not relayed yet
    refused = tenant.api.post(URL, json={"client_id": fresh["id"], "type": "server", "name": "x"})
    assert refused.status_code == 422 and "client_id" in refused.json["errors"]


def test_read_only_member_cannot_change_configurations(psa, tenant):
    client = tenant.client()
    reader = tenant.member("read-only", all_clients=True)
    psa.settle()
    made = tenant.api.post(URL, json={"client_id": client["id"], "type": "server", "name": "DC01"}).json
    assert reader.api.get(f"{URL}/{made['id']}").status_code == 200
    assert reader.api.patch(f"{URL}/{made['id']}", json={"name": "x"}).status_code == 403
    assert reader.api.post(URL, json={"client_id": client["id"], "type": "server", "name": "x"}).status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "toaster"}, "type"),
        ({"type": 7}, "type"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"serial": "s" * 101}, "serial"),
        ({"notes": 12}, "notes"),
        ({"client_id": "not-a-uuid"}, "client_id"),
        ({"client_id": "0190e7a0-0000-7000-8000-000000000000"}, "client_id"),
        ({"ip_addresses": ["192.168.1.300"]}, "ip_addresses"),
        ({"ip_addresses": "192.168.1.1"}, "ip_addresses"),
        ({"ip_addresses": ["127.0.0.1"]}, "ip_addresses"),
        ({"ip_addresses": ["::ffff:127.0.0.1"]}, "ip_addresses"),
        ({"ip_addresses": ["10.0.0.1", "10.0.0.1"]}, "ip_addresses"),
        ({"ip_addresses": [f"10.0.0.{n}" for n in range(33)]}, "ip_addresses"),
        ({"external_ip": "10.1.2.3"}, "external_ip"),
        ({"external_ip": "::ffff:10.1.2.3"}, "external_ip"),
        ({"external_ip": "::ffff:169.254.1.1"}, "external_ip"),
        ({"external_ip": "fw.example.com"}, "external_ip"),
        ({"warranty_end": "31/03/2027"}, "warranty_end"),
        ({"custom_fields": {"rack": 5}}, "custom_fields"),
        ({"custom_fields": {"k" * 51: "v"}}, "custom_fields"),
        ({"custom_fields": {"notes": "v" * 501}}, "custom_fields"),
        ({"custom_fields": {f"f{n}": "v" for n in range(31)}}, "custom_fields"),
        ({"custom_fields": ["rack"]}, "custom_fields"),
        ({"owner": "Bob"}, "owner"),
        ({"active": "maybe"}, "active"),
    ],
)
def test_bad_configuration_input_is_refused_naming_the_field(psa, tenant, change, field):
    client = tenant.client()
    psa.settle()
    body = {"client_id": client["id"], "type": "server", "name": "DC01", **change}
    refused = tenant.api.post(URL, json=body)
    assert refused.status_code == 422, refused.json
    assert refused.content_type == "application/problem+json"
    assert names_field(refused.json, field), refused.json
    assert count_configurations(psa, tenant) == 0
    assert outbox_types(psa) == []


@pytest.mark.parametrize(
    "custom_fields, errors",
    [
        ({"rack": 5}, {"custom_fields.rack": ["Not a valid string."]}),
        ({"notes": "v" * 501}, {"custom_fields.notes": ["Longer than maximum length 500."]}),
        ({"k" * 51: "v"}, {f"custom_fields.{'k' * 51}": ["a key must be 1 to 50 characters"]}),
        ({"": "v"}, {"custom_fields": ["a key must be 1 to 50 characters"]}),  # no name of its own
    ],
)
def test_a_bad_custom_field_is_named_by_its_key(psa, tenant, custom_fields, errors):
    client = tenant.client()
    psa.settle()
    refused = tenant.api.post(URL, json=firewall(client["id"], custom_fields=custom_fields))
    assert refused.status_code == 422 and refused.json["errors"] == errors, refused.json


def test_a_plugin_setting_called_key_keeps_its_name():
    """The same flattening names a plugin's settings, where a field may well be called `key`."""
    nested = {"api": {"key": ["Missing data for required field."]}, "": ["Unknown field."]}
    assert flatten_errors(nested, "settings") == {
        "settings.api.key": ["Missing data for required field."],
        "settings": ["Unknown field."],
    }


def test_bad_patch_changes_nothing(psa, tenant):
    client = tenant.client()
    psa.settle()
    made = tenant.api.post(URL, json=firewall(client["id"])).json
    for change, field in [
        ({"external_ip": "192.168.0.1"}, "external_ip"),
        ({"id": made["id"]}, "id"),
        ({"name": None}, "name"),
    ]:
        refused = tenant.api.patch(f"{URL}/{made['id']}", json=change)
        assert refused.status_code == 422 and field in refused.json["errors"], refused.json
    assert tenant.api.get(f"{URL}/{made['id']}").json == made
    assert outbox_types(psa) == ["configuration.created"]


def test_bad_list_filters_are_refused(psa, tenant):
    psa.settle()
    for query, field in [({"type": "toaster"}, "type"), ({"client_id": "x"}, "client_id"), ({"limit": 0}, "limit")]:
        refused = tenant.api.get(URL, query_string=query)
        assert refused.status_code == 422 and field in refused.json["errors"], refused.json


def test_custom_fields_are_stored_as_json(psa, tenant):
    client = tenant.client()
    psa.settle()
    made = tenant.api.post(URL, json=firewall(client["id"], custom_fields={"vlan": "20"})).json
    with psa.service("docs_vault").db.proxy.connection_context(), tenant_scope(tenant.id):
        stored = Configuration.get_by_id(made["id"])
    assert json.loads(stored.custom_fields) == {"vlan": "20"}
