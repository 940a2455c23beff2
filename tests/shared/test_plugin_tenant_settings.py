"""Each MSP connects the ledger integration to its own accounting system, or switches it off: its
settings are validated by the plugin's schema, its API key is the name of an environment variable
(never the key itself), and a tenant that switched the plugin off gets nothing from it, neither
event reactions nor its web endpoints, while every other tenant keeps it (ARCHITECTURE §8)."""

import flask
import marshmallow as ma
import pytest
from marshmallow import fields, validate

from psa_shared import bus, tenancy
from psa_shared.fields import EnvSecret, MissingSecret, StaleSettings
from psa_shared.plugins import hookimpl
from psa_shared.web import public
from psa_tickets.plugin_api import tenant_settings

URL = "/api/v1/settings/plugins"


class Ledger:
    """Posts each new client to the tenant's ledger, with the tenant's own API key."""

    def __init__(self):
        self.heard: list[tuple[str, str]] = []

    class Settings(ma.Schema):
        company_code = fields.String(load_default="MAIN", validate=validate.Length(min=1, max=10))
        sync_days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=90))
        api_key = EnvSecret(required=True)

    @hookimpl
    def psa_tenant_settings_schema(self):
        return self.Settings

    @hookimpl
    def psa_event_types(self):
        return ["client.created"]

    @hookimpl
    def psa_on_event(self, event, payload):
        self.heard.append((str(event.tenant_id), payload["name"]))

    @hookimpl
    def psa_register_blueprints(self):
        blueprint = flask.Blueprint("ledger", __name__)

        @blueprint.get("/status")
        def status():
            return {"tenant": str(tenancy.current_tenant())}

        @blueprint.post("/hook")
        @public
        def hook():
            return {"received": True}

        return [("ledger", blueprint)]


class Plain:
    """A plugin that takes no settings: it can still be switched off."""

    @hookimpl
    def psa_event_types(self):
        return ["client.created"]

    @hookimpl
    def psa_on_event(self, event, payload):
        pass


@pytest.fixture
def ledger(plugins) -> Ledger:
    plugins(Plain(), "plain")
    return plugins(Ledger(), "ledger")


def switch(tenant, enabled: bool, **settings):
    response = tenant.api.put(f"{URL}/ledger", json={"enabled": enabled, "settings": settings})
    return response


DEFAULTS = {"company_code": "MAIN", "sync_days": 30}
NEVER_SAVED = {"stale_fields": [], "updated_at": None, "updated_by_id": None}


def test_a_tenant_that_switches_the_ledger_off_hears_nothing_while_another_does(ledger, psa, tenant, other_tenant):
    assert switch(tenant, False).status_code == 200
    tenant.client("Harbour Dental")
    other_tenant.client("Corner Bakery")
    psa.settle()
    assert ledger.heard == [(other_tenant.id, "Corner Bakery")]
    (consumer,) = [c for c in psa.consumers() if c.name == "plugin.ledger"]
    assert bus.dead_letters(consumer) == 0  # skipped, recorded as applied: not retried
    assert switch(tenant, True, api_key={"env": "LEDGER_KEY"}).status_code == 200
    tenant.client("Harbour Optics")
    psa.settle()
    assert ledger.heard[-1] == (tenant.id, "Harbour Optics")
    assert (tenant.id, "Harbour Dental") not in ledger.heard  # not replayed by switching it back on


def test_a_switched_off_plugins_pages_are_not_found_for_that_tenant_alone(ledger, psa, tenant, other_tenant):
    assert tenant.api.get("/api/v1/plugins/ledger/status").json == {"tenant": tenant.id}
    assert switch(tenant, False).status_code == 200
    gone = tenant.api.get("/api/v1/plugins/ledger/status")
    assert gone.status_code == 404 and gone.content_type == "application/problem+json"
    assert other_tenant.api.get("/api/v1/plugins/ledger/status").json == {"tenant": other_tenant.id}
    assert psa.http.post("/api/v1/plugins/ledger/hook").status_code == 200  # public: the plugin's own check


def test_a_literal_api_key_is_refused_naming_the_field_and_never_echoed(ledger, psa, tenant):
    response = switch(tenant, True, api_key="sk_live_51Hq")
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert response.json["errors"] == {
        "settings.api_key": ['give the name of an environment variable holding it: {"env": "NAME"}']
    }
    assert "sk_live_51Hq" not in response.get_data(as_text=True)
    assert tenant.api.get(f"{URL}/ledger").json["settings"] == DEFAULTS


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"api_key": {"env": "LEDGER_KEY"}, "sync_days": 365}, "settings.sync_days"),
        ({"api_key": {"env": "LEDGER_KEY"}, "colour": "red"}, "settings.colour"),
        ({"company_code": "ACME"}, "settings.api_key"),
        ({"api_key": {"env": "9LIVES"}}, "settings.api_key"),
        ({"api_key": {"env": "LEDGER_KEY", "value": "x"}}, "settings.api_key"),
        ({"api_key": {"env": "PSA_VAULT_MASTER_KEYS"}}, "settings.api_key"),  # not the service's secrets
        ({"api_key": {"env": "LEDGER_"}}, "settings.api_key"),  # the prefix alone names no secret
    ],
)
def test_bad_settings_are_refused_and_nothing_is_stored(ledger, psa, tenant, settings, field):
    assert switch(tenant, True, company_code="ACME", api_key={"env": "LEDGER_KEY"}).status_code == 200
    before = tenant.api.get(f"{URL}/ledger").json
    response = switch(tenant, True, **settings)
    assert response.status_code == 422 and field in response.json["errors"], response.json
    assert tenant.api.get(f"{URL}/ledger").json == before


def test_switching_off_needs_no_configuration_but_what_is_given_is_checked(ledger, psa, tenant):
    off = switch(tenant, False)
    assert off.status_code == 200 and off.json["settings"] == DEFAULTS
    refused = switch(tenant, False, sync_days=0)
    assert refused.status_code == 422 and list(refused.json["errors"]) == ["settings.sync_days"]


def test_the_api_key_resolves_for_the_plugin_and_the_api_shows_only_its_variable(ledger, psa, tenant, monkeypatch):
    monkeypatch.setenv("LEDGER_KEY_ACME", "sk_live_51Hq")
    saved = switch(tenant, True, company_code="ACME", api_key={"env": "LEDGER_KEY_ACME"})
    assert saved.status_code == 200, saved.json
    assert saved.json["settings"] == {"company_code": "ACME", "sync_days": 30, "api_key": {"env": "LEDGER_KEY_ACME"}}
    listed = tenant.api.get(URL)
    assert "sk_live_51Hq" not in listed.get_data(as_text=True) + saved.get_data(as_text=True)
    assert {item["name"]: item["settings"]["api_key"] for item in listed.json["items"] if item["settings"]} == {
        "ledger": {"env": "LEDGER_KEY_ACME"}
    }
    assert tenant_settings(tenant.id, "ledger") == {"company_code": "ACME", "sync_days": 30, "api_key": "sk_live_51Hq"}


def test_an_unset_variable_is_named_and_the_value_never_shown(ledger, psa, tenant, monkeypatch):
    monkeypatch.delenv("LEDGER_KEY_GONE", raising=False)
    assert switch(tenant, True, api_key={"env": "LEDGER_KEY_GONE"}).status_code == 200
    with pytest.raises(MissingSecret, match="LEDGER_KEY_GONE"):
        tenant_settings(tenant.id, "ledger")


def test_a_switched_off_tenant_reads_no_settings(ledger, psa, tenant):
    assert switch(tenant, False, api_key={"env": "LEDGER_KEY"}).status_code == 200
    assert tenant_settings(tenant.id, "ledger") is None


def test_one_tenants_settings_are_never_another_tenants(ledger, psa, tenant, other_tenant, monkeypatch):
    monkeypatch.setenv("LEDGER_KEY_ACME", "acme secret")
    assert switch(tenant, False, company_code="ACME", api_key={"env": "LEDGER_KEY_ACME"}).status_code == 200
    theirs = other_tenant.api.get(f"{URL}/ledger").json
    assert theirs == {"name": "ledger", "enabled": True, "settings": DEFAULTS, "settings_schema": True, **NEVER_SAVED}
    assert {i["name"]: i["enabled"] for i in other_tenant.api.get(URL).json["items"]} == {"ledger": True, "plain": True}
    assert tenant_settings(other_tenant.id, "ledger") == DEFAULTS


def test_a_technician_can_read_but_not_switch_a_plugin(ledger, psa, tenant):
    technician = tenant.member("technician")
    refused = technician.api.put(f"{URL}/ledger", json={"enabled": False, "settings": {}})
    assert refused.status_code == 403
    assert technician.api.get(f"{URL}/ledger").json["enabled"] is True


def test_a_plugin_without_a_schema_can_be_switched_off_but_takes_no_settings(ledger, psa, tenant):
    assert tenant.api.get(f"{URL}/plain").json == {
        "name": "plain",
        "enabled": True,
        "settings": {},
        "settings_schema": False,
        **NEVER_SAVED,
    }
    refused = tenant.api.put(f"{URL}/plain", json={"enabled": True, "settings": {"x": 1}})
    assert refused.status_code == 422 and "settings" in refused.json["errors"]
    assert tenant.api.put(f"{URL}/plain", json={"enabled": False}).json["enabled"] is False
    assert tenant_settings(tenant.id, "plain") is None


def test_an_unknown_plugin_is_not_found(ledger, psa, tenant):
    assert tenant.api.get(f"{URL}/ledgr").status_code == 404
    assert tenant.api.put(f"{URL}/ledgr", json={"enabled": False}).status_code == 404


def test_enabled_must_be_a_json_boolean(ledger, psa, tenant):
    response = tenant.api.put(f"{URL}/ledger", json={"enabled": "no", "settings": {}})
    assert response.status_code == 422 and "enabled" in response.json["errors"]


def test_who_switched_the_ledger_off_and_when_is_kept_and_told_as_an_event(ledger, psa, tenant, monkeypatch):
    """The MSP's owner asks why invoices stopped reaching the ledger: the settings say who saved
    them last, and `plugin.settings_changed` (actor, settings as references) went out with them."""
    monkeypatch.setenv("LEDGER_KEY_ACME", "acme secret")
    assert switch(tenant, True, api_key={"env": "LEDGER_KEY_ACME"}).status_code == 200
    office = tenant.member("admin")
    saved = office.api.put(
        f"{URL}/ledger", json={"enabled": False, "settings": {"api_key": {"env": "LEDGER_KEY_ACME"}}}
    )
    assert saved.status_code == 200
    assert saved.json["updated_by_id"] == office.id and saved.json["updated_at"].endswith("Z")
    assert tenant.api.get(f"{URL}/ledger").json == saved.json
    changes = psa.emitted("plugin.settings_changed")
    assert [(e.actor, e.payload["enabled"]) for e in changes] == [(tenant.admin_id, True), (office.id, False)]
    assert changes[-1].payload["settings"] == {**DEFAULTS, "api_key": {"env": "LEDGER_KEY_ACME"}}
    assert all("acme secret" not in e.to_json() for e in changes)


def test_settings_refused_are_not_told_as_changed(ledger, psa, tenant):
    assert switch(tenant, True, api_key="a literal key").status_code == 422
    assert psa.emitted("plugin.settings_changed") == []


class LedgerV2Settings(ma.Schema):
    """The ledger's next version: `company_code` dropped, `entity` (which books to post to) required."""

    sync_days = fields.Integer(load_default=30)
    entity = fields.String(required=True)
    api_key = EnvSecret(required=True)


def test_settings_a_new_ledger_version_no_longer_takes_are_named_not_a_bare_error(ledger, psa, tenant, monkeypatch):
    """The partner ships a ledger version whose schema changed: until 2026-11-28 its every event
    failed on a bare marshmallow error, and the settings page said nothing was wrong."""
    monkeypatch.setenv("LEDGER_KEY_ACME", "acme secret")
    assert switch(tenant, True, company_code="ACME", api_key={"env": "LEDGER_KEY_ACME"}).status_code == 200
    ledger.Settings = LedgerV2Settings
    with pytest.raises(StaleSettings, match="ledger") as stale:
        tenant_settings(tenant.id, "ledger")
    assert stale.value.fields == ["company_code", "entity"]
    assert "ACME" not in str(stale.value) and "acme secret" not in str(stale.value)
    assert tenant.api.get(f"{URL}/ledger").json["stale_fields"] == ["company_code", "entity"]
    assert switch(tenant, True, entity="EU-01", api_key={"env": "LEDGER_KEY_ACME"}).status_code == 200
    assert tenant.api.get(f"{URL}/ledger").json["stale_fields"] == []
    assert tenant_settings(tenant.id, "ledger")["entity"] == "EU-01"
