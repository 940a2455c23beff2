"""A plugin's documented endpoints are in the tickets service's OpenAPI document, under
`/api/v1/plugins/<name>/`, with their schemas: a partner's client generator sees them. A plain
`flask.Blueprint` still mounts and answers, undocumented. Until 2026-11-27 every plugin blueprint
was mounted past the Api, and none was documented."""

import flask
import marshmallow as ma
import pytest
from flask.views import MethodView

from psa_shared.plugins import hookimpl, register_plugin, unregister_plugin
from psa_shared.tenancy import current_tenant
from psa_shared.web import Blueprint


class DeviceSchema(ma.Schema):
    hostname = ma.fields.String(required=True)
    online = ma.fields.Boolean()


class RmmDevices:
    """Lists the RMM's devices (documented), and keeps an old undocumented status route."""

    @hookimpl
    def psa_register_blueprints(self):
        documented = Blueprint("rmm_devices", __name__, description="Devices the RMM watches")

        @documented.route("/devices")
        class Devices(MethodView):
            @documented.response(200, DeviceSchema(many=True))
            def get(self):
                """Devices of the caller's tenant, as the RMM last reported them."""
                return [{"hostname": f"FW-{str(current_tenant())[:4]}", "online": True}]

        plain = flask.Blueprint("rmm_status", __name__)

        @plain.get("/status")
        def status():
            return {"tenant": str(current_tenant())}

        return [("rmm", documented), ("rmm-legacy", plain)]


@pytest.fixture
def rmm():
    register_plugin(RmmDevices(), "rmm")
    yield
    unregister_plugin("rmm")


def test_documented_plugin_endpoint_is_in_the_openapi_document(rmm, psa, tenant):
    document = psa.http.get("/openapi/tickets.json").json
    operation = document["paths"]["/api/v1/plugins/rmm/devices"]["get"]
    assert operation["summary"].startswith("Devices of the caller's tenant")
    assert "Device" in document["components"]["schemas"]


def test_documented_plugin_endpoint_is_authenticated_and_tenant_scoped(rmm, psa, tenant):
    assert psa.http.get("/api/v1/plugins/rmm/devices").status_code == 401
    response = tenant.api.get("/api/v1/plugins/rmm/devices")
    assert response.status_code == 200 and response.json == [{"hostname": f"FW-{tenant.id[:4]}", "online": True}]


def test_plain_flask_blueprint_still_mounts_undocumented(rmm, psa, tenant):
    assert tenant.api.get("/api/v1/plugins/rmm-legacy/status").json == {"tenant": tenant.id}
    paths = psa.http.get("/openapi/tickets.json").json["paths"]
    assert not any(path.startswith("/api/v1/plugins/rmm-legacy") for path in paths)
