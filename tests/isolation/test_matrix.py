"""Tenant isolation: tenant A's admin gets 404 for every tenant-B object on every endpoint.

Each `cases_*.py` module beside this file seeds tenant B's objects and maps every route it owns
to a request aimed at them. The matrix fails when a route of any service has no case, so a new
endpoint cannot ship without its cross-tenant test.
"""

import importlib
import pkgutil

import pytest

from psa_tickets.testing import make_tenant

from . import __path__ as here

MODULES = [
    importlib.import_module(f"{__package__}.{m.name}")
    for m in pkgutil.iter_modules(here)
    if m.name.startswith("cases_")
]
CASES = {key: (module, build) for module in MODULES for key, build in module.ROUTES.items()}
# Reachable without a token: nothing tenant-scoped behind them.
PUBLIC = {("POST", "/api/v1/auth/token"), ("GET", "/.well-known/jwks.json")}


def api_routes(psa) -> set[tuple[str, str]]:
    routes = set()
    for service in psa.services:
        app = service.app_factory(psa.settings)
        for rule in app.url_map.iter_rules():
            if rule.rule.startswith(("/api/", "/.well-known/")):
                routes |= {(m, rule.rule) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_every_route_has_a_cross_tenant_case(psa):
    missing = api_routes(psa) - set(CASES) - PUBLIC
    assert not missing, f"routes without a cross-tenant case: {sorted(missing)}"


@pytest.fixture
def seeded(psa):
    a, b = make_tenant(psa, "Tenant A"), make_tenant(psa, "Tenant B")
    ids = {}
    for module in MODULES:
        ids.update(module.seed(b, psa))
    return a, b, ids


@pytest.mark.parametrize("route", sorted(CASES), ids=lambda r: f"{r[0]} {r[1]}")
def test_tenant_a_cannot_reach_tenant_b(seeded, route):
    a, b, ids = seeded
    module, build = CASES[route]
    request = build(ids)
    before = {path: b.api.get(path).json for path in module.WATCH(ids)}
    response = a.api.open(route[0], request["path"], json=request.get("json"))
    expect = request.get("expect", 404)
    if expect == "list":
        assert response.status_code == 200, response.json
        seen = {item["id"] for item in response.json["items"]}
        assert not seen & set(ids.values()), "tenant B's objects listed to tenant A"
    else:
        assert response.status_code == expect, response.json
        if expect >= 400:
            assert response.content_type == "application/problem+json"
    assert {path: b.api.get(path).json for path in module.WATCH(ids)} == before, "tenant B's data changed"
