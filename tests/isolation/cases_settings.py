"""Cross-tenant cases for tenant settings: they are per tenant, so A's changes leave B's as they were."""

HOURS = "/api/v1/settings/business-hours"
# No plugin runs in the matrix's process, so a plugin's page is 404 to everyone: the cross-tenant
# story with one running is tests/shared/test_plugin_tenant_settings.py (one tenant's settings and
# switch never another's).
PLUGINS = "/api/v1/settings/plugins"


def seed(b, psa) -> dict:
    hours = {"time_zone": "Pacific/Auckland", "workday_start": "07:30", "workday_end": "16:00"}
    seeded = b.api.put(HOURS, json={**hours, "workdays": [1, 2, 3, 4], "holidays": ["2026-02-06"]})
    assert seeded.status_code == 200, seeded.json
    return {}


def WATCH(ids):  # noqa: N802  (a constant-like hook of every cases module)
    return [HOURS, PLUGINS]


ROUTES = {
    ("GET", HOURS): lambda ids: {"path": HOURS, "expect": 200},
    ("PUT", HOURS): lambda ids: {
        "path": HOURS,
        "json": {"time_zone": "UTC", "workday_start": "00:00", "workday_end": "24:00", "workdays": [7], "holidays": []},
        "expect": 200,
    },
    ("GET", PLUGINS): lambda ids: {"path": PLUGINS, "expect": 200},
    ("GET", f"{PLUGINS}/<name>"): lambda ids: {"path": f"{PLUGINS}/ledger", "expect": 404},
    ("PUT", f"{PLUGINS}/<name>"): lambda ids: {"path": f"{PLUGINS}/ledger", "json": {"enabled": False}, "expect": 404},
}
