"""A client's month in one report: the office move's hours print beside the tickets' (until
2026-11-28 the report showed tickets only, so a month of project work read as a quiet month)."""

import uuid

from .projects_seed import project, task
from .test_activity_report_size import CAP, MARCH, open_ticket, refused_for_size, small_cap  # noqa: F401
from .test_service_desk import apply, log


def log_on_task(tenant, task_id, started_at, minutes=90, **fields):
    made = tenant.api.post(
        f"/api/v1/tasks/{task_id}/time-entries", json={"started_at": started_at, "minutes": minutes, **fields}
    )
    assert made.status_code == 201, made.json
    return made.json


def activity(tenant, client, dates=MARCH) -> str:
    report = tenant.api.get(f"/api/v1/clients/{client['id']}/activity-report.html?{dates}")
    assert report.status_code == 200, report.data[:300]
    return " ".join(report.get_data(as_text=True).split())


def test_the_month_report_shows_the_office_move_beside_the_tickets_without_internal_notes(tenant):
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Law")
    printer = open_ticket(tenant, acme)
    assert log(tenant.api, printer.rsplit("/", 1)[1], minutes=30, started_at="2026-03-02T10:00:00Z").status_code == 201
    move = project(tenant.api, acme["id"], name="Office move")
    cabling = task(tenant.api, move["id"], name="Cable 12 desks")
    log_on_task(tenant, cabling["id"], "2026-03-10T08:00:00Z", 120, notes="Cabled the first six desks",
                internal_notes="patch panel is a mess, quote a new one")  # fmt: skip
    log_on_task(tenant, cabling["id"], "2026-03-11T08:00:00Z", 60, billing="no_charge")
    log_on_task(tenant, cabling["id"], "2026-04-01T08:00:00Z", 45, notes="April's hour")
    other = project(tenant.api, bolt["id"], name="Bolt's new server")
    log_on_task(tenant, task(tenant.api, other["id"], name="Rack it")["id"], "2026-03-10T09:00:00Z", 30)

    html = activity(tenant, acme)
    assert "1 request(s) &middot; 1 project(s) &middot; total time 3:30" in html
    assert "Project: Office move" in html and "Time on this project: 3:00" in html
    assert "Cable 12 desks: Cabled the first six desks" in html and "(no charge)" in html
    assert "patch panel" not in html and "April" not in html and "Rack it" not in html


def test_a_moved_project_takes_its_unbilled_hours_to_the_new_clients_report_and_leaves_the_billed(tenant, psa):
    acme, bolt = tenant.client("Acme Dental"), tenant.client("Bolt Law")
    move = project(tenant.api, acme["id"], name="Office move")
    cabling = task(tenant.api, move["id"])["id"]
    billed = log_on_task(tenant, cabling, "2026-03-10T08:00:00Z", notes="Invoiced to Acme")
    log_on_task(tenant, cabling, "2026-03-11T08:00:00Z", notes="Not invoiced yet")
    posted = {"invoice_id": str(uuid.uuid4()), "number": "INV-9", "client_id": acme["id"],
              "time_entry_ids": [billed["id"]], "total": "150.00", "currency": "USD"}  # fmt: skip
    apply(psa, "invoice.posted", tenant.id, posted)
    assert tenant.api.patch(f"/api/v1/projects/{move['id']}", json={"client_id": bolt["id"]}).status_code == 200
    acmes, bolts = activity(tenant, acme), activity(tenant, bolt)
    assert "Invoiced to Acme" in acmes and "Not invoiced yet" not in acmes  # as billing has them
    assert "Not invoiced yet" in bolts and "Invoiced to Acme" not in bolts


def test_project_hours_count_toward_the_pdf_cap(tenant, small_cap):  # noqa: F811
    acme = tenant.client("Acme Dental")
    open_ticket(tenant, acme)  # one row
    cabling = task(tenant.api, project(tenant.api, acme["id"])["id"])
    for day in range(CAP):
        log_on_task(tenant, cabling["id"], f"2026-03-{10 + day}T08:00:00Z", notes=f"Day {day + 1}")
    report = f"/api/v1/clients/{acme['id']}/activity-report.html?{MARCH}&format=pdf"
    refused_for_size(tenant.api.get(report), CAP + 1)
