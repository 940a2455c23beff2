"""Cross-tenant cases for tenant settings: they are per tenant, so A's changes leave B's as they were."""

HOURS = "/api/v1/settings/business-hours"


def seed(b, psa) -> dict:
    hours = {"time_zone": "Pacific/Auckland", "workday_start": "07:30", "workday_end": "16:00"}
    seeded = b.api.put(HOURS, json={**hours, "workdays": [1, 2, 3, 4], "holidays": ["2026-02-06"]})
    assert seeded.status_code == 200, seeded.json
    return {}


def WATCH(ids):  # noqa: N802  (a constant-like hook of every cases module)
    return [HOURS]


ROUTES = {
    ("GET", HOURS): lambda ids: {"path": HOURS, "expect": 200},
    ("PUT", HOURS): lambda ids: {
        "path": HOURS,
        "json": {"time_zone": "UTC", "workday_start": "00:00", "workday_end": "24:00", "workdays": [7], "holidays": []},
        "expect": 200,
    },
}
