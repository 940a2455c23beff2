"""An RMM integration opens tickets: its public webhook, signed with the tenant's own secret, opens a
P1 ticket for the client whose firewall is down, on the tenant's default board, as the integration
(no member on the trail); and its event hook opens an onboarding ticket for every new client.
`psa_tickets.plugin_api.open_ticket` is the one call either needs (until 2026-11-27 a plugin
author had to read the service's source and assemble a principal by hand)."""

import hmac
import os
import uuid

import flask
import pytest

from psa_shared.errors import InvalidInput, NotFound
from psa_shared.plugins import hookimpl
from psa_shared.web import public
from psa_tickets.plugin_api import add_note, open_ticket


class RmmAlerts:
    """Each tenant's RMM posts to `/api/v1/plugins/rmm/<tenant id>/alerts` with the secret the
    MSP set for that tenant (`RMM_SECRET_<tenant id hex>`): a leaked secret opens tickets in one
    tenant only, whatever tenant id the request names."""

    @hookimpl
    def psa_register_blueprints(self):
        blueprint = flask.Blueprint("rmm_alerts", __name__)

        @blueprint.post("/<uuid:tenant_id>/alerts")
        @public
        def alert(tenant_id):
            expected = os.environ.get(f"RMM_SECRET_{tenant_id.hex}", "")
            if not expected or not hmac.compare_digest(flask.request.headers.get("X-Rmm-Secret", ""), expected):
                return {"title": "bad signature"}, 401
            body = flask.request.get_json()
            ticket = open_ticket(
                tenant_id, plugin="rmm", client_id=body["client_id"], summary=body["alert"], priority="P1"
            )
            return {"id": ticket["id"], "number": ticket["number"]}, 201

        return [("rmm", blueprint)]


class Onboarding:
    """Opens an onboarding checklist ticket for every new client."""

    @hookimpl
    def psa_event_types(self):
        return ["client.created"]

    @hookimpl
    def psa_on_event(self, event, payload):
        open_ticket(event.tenant_id, plugin="onboarding", client_id=payload["id"], summary="Onboard " + payload["name"])


@pytest.fixture
def rmm(plugins, monkeypatch):
    """Installed before the system starts; returns `secret_for(tenant)`, set in the environment."""
    plugins(RmmAlerts(), "rmm")

    def secret_for(tenant) -> str:
        secret = uuid.uuid4().hex
        monkeypatch.setenv(f"RMM_SECRET_{uuid.UUID(tenant.id).hex}", secret)
        return secret

    return secret_for


def alert(psa, tenant, secret, client_id, text="Firewall FW-01 offline"):
    return psa.http.post(
        f"/api/v1/plugins/rmm/{tenant.id}/alerts",
        json={"client_id": client_id, "alert": text},
        headers={"X-Rmm-Secret": secret},
    )


def tickets_of(tenant) -> list[dict]:
    response = tenant.api.get("/api/v1/tickets", query_string={"limit": 200})
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_rmm_alert_opens_a_p1_ticket_in_its_tenant_alone(rmm, psa, tenant, other_tenant):
    dental = tenant.client("Harbour Dental")
    other_tenant.client("Someone else's client")
    response = alert(psa, tenant, rmm(tenant), dental["id"])
    assert response.status_code == 201, response.json
    (ticket,) = tickets_of(tenant)
    assert ticket["id"] == response.json["id"] and ticket["number"] == response.json["number"]
    assert (ticket["client_id"], ticket["summary"], ticket["priority"]) == (
        dental["id"],
        "Firewall FW-01 offline",
        "P1",
    )
    default = next(b for b in tenant.api.get("/api/v1/boards").json["items"] if b["is_default"])
    assert ticket["board_id"] == default["id"]
    assert tickets_of(other_tenant) == []


def test_rmm_alert_is_on_the_trail_as_the_integration_not_a_member(rmm, psa, tenant):
    dental = tenant.client("Harbour Dental")
    ticket_id = alert(psa, tenant, rmm(tenant), dental["id"]).json["id"]
    (created,) = [e for e in psa.emitted("ticket.created") if str(e.payload["id"]) == ticket_id]
    assert created.actor == "system:plugin.rmm" and str(created.tenant_id) == tenant.id


def test_rmm_alert_naming_another_tenants_client_is_refused(rmm, psa, tenant, other_tenant):
    theirs = other_tenant.client("Someone else's client")
    response = alert(psa, tenant, rmm(tenant), theirs["id"])
    assert response.status_code == 422 and "client_id" in response.json["errors"]
    assert tickets_of(tenant) == [] and tickets_of(other_tenant) == []


def test_one_tenants_secret_opens_nothing_in_another_tenant(rmm, psa, tenant, other_tenant):
    theirs = other_tenant.client("Someone else's client")
    rmm(other_tenant)
    response = alert(psa, other_tenant, rmm(tenant), theirs["id"])  # tenant A's secret, B's URL
    assert response.status_code == 401
    assert tickets_of(other_tenant) == []


def test_refused_fields_read_as_the_api_refuses_them(rmm, psa, tenant):
    """The detail names the field too, as the service's own 422s do (until 2026-11-28 a plugin's
    `InvalidInput(errors=...)` said only "Invalid input" there)."""
    dental = tenant.client("Harbour Dental")
    response = alert(psa, tenant, rmm(tenant), dental["id"], text="   ")
    assert response.status_code == 422 and "summary" in response.json["errors"]
    assert response.json["detail"].startswith("summary: ")


@pytest.mark.parametrize(("summary", "refused"), [("Firewall\u0000down", "NUL"), ("Firewall \udc00", "surrogate")])
def test_a_summary_no_database_stores_is_refused_as_the_api_refuses_it(rmm, psa, tenant, summary, refused):
    """Until 2026-11-28 open_ticket skipped the API parser's check: SQLite kept the NUL (and sent it
    out in `ticket.created`), PostgreSQL answered 500, and a lone surrogate was 500 on both."""
    dental = tenant.client("Harbour Dental")
    with pytest.raises(InvalidInput) as error:
        open_ticket(tenant.id, plugin="rmm", client_id=dental["id"], summary=summary)
    assert list(error.value.errors) == ["summary"] and refused in error.value.errors["summary"][0]
    assert tickets_of(tenant) == [] and psa.emitted("ticket.created") == []


def test_event_hook_opens_an_onboarding_ticket_for_each_new_client(plugins, psa, tenant, other_tenant):
    plugins(Onboarding(), "onboarding")
    bakery = tenant.client("Corner Bakery")
    psa.settle()
    assert [(t["client_id"], t["summary"]) for t in tickets_of(tenant)] == [(bakery["id"], "Onboard Corner Bakery")]
    assert tickets_of(other_tenant) == []


def test_the_rmm_tells_the_client_on_the_ticket_it_opened_that_the_firewall_is_back(rmm, psa, tenant):
    """`add_note` writes as the integration: on the client's trail, yet no response by the MSP, so
    the respond clock runs on until a member answers."""
    dental = tenant.client("Harbour Dental")
    ticket_id = alert(psa, tenant, rmm(tenant), dental["id"]).json["id"]
    note = add_note(tenant.id, ticket_id, plugin="rmm", text="FW-01 back online at 10:42", internal=False)
    assert (note["ticket_id"], note["author_id"], note["internal"]) == (ticket_id, None, False)
    trail = tenant.api.get(f"/api/v1/tickets/{ticket_id}/timeline", query_string={"audience": "client"}).json
    (told,) = [item for item in trail["items"] if item["kind"] == "note"]
    assert (told["text"], told["actor"]["name"]) == ("FW-01 back online at 10:42", "PSA Core (automatic)")
    assert tenant.api.get(f"/api/v1/tickets/{ticket_id}").json["responded_at"] is None
    (created,) = psa.emitted("note.created")
    assert created.actor == "system:plugin.rmm" and str(created.tenant_id) == tenant.id


def test_a_note_for_another_tenants_ticket_or_with_nothing_to_say_is_refused(rmm, psa, tenant, other_tenant):
    theirs = other_tenant.client("Someone else's client")
    ticket_id = alert(psa, other_tenant, rmm(other_tenant), theirs["id"]).json["id"]
    with pytest.raises(NotFound):
        add_note(tenant.id, ticket_id, plugin="rmm", text="Cleared")
    with pytest.raises(InvalidInput) as blank:
        add_note(other_tenant.id, ticket_id, plugin="rmm", text="   ")
    assert list(blank.value.errors) == ["text"]
    with pytest.raises(InvalidInput) as not_an_id:
        add_note(other_tenant.id, "FW-01", plugin="rmm", text="Cleared")
    assert list(not_an_id.value.errors) == ["ticket_id"]
    assert psa.emitted("note.created") == []
