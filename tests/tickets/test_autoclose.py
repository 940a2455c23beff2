"""Auto-close: waiting tickets close by the board's policy, and only from when they started waiting."""

import datetime as dt
import time

import pytest
from click.testing import CliRunner

from psa_shared.config import Settings
from psa_shared.runtime import StartupError
from psa_tickets.servicedesk import clock, commands
from psa_tickets.servicedesk.commands import tickets_group

MONDAY = dt.datetime(2026, 3, 2, 9, 0)


def setup(tenant, **policy):
    board = tenant.api.get("/api/v1/boards").json["items"][0]
    assert tenant.api.patch(f"/api/v1/boards/{board['id']}", json=policy).status_code == 200
    with clock.travel(MONDAY):
        ticket = tenant.api.post("/api/v1/tickets", json={"client_id": tenant.client()["id"], "summary": "Mailbox"})
    return f"/api/v1/tickets/{ticket.json['id']}"


def attempt(tenant, path, at, outcome="no_response"):
    with clock.travel(at):
        made = tenant.api.post(f"{path}/time-entries", json={"minutes": 0, "outcome": outcome, "notes": "Called"})
    assert made.status_code == 201


def status(tenant, path):
    return tenant.api.get(path).json["status"]


def test_attempts_before_waiting_do_not_count(tenant):
    path = setup(tenant, autoclose_attempts=2)
    attempt(tenant, path, MONDAY + dt.timedelta(hours=1))
    attempt(tenant, path, MONDAY + dt.timedelta(hours=2))
    assert status(tenant, path) == "New"  # not waiting: nothing closes
    with clock.travel(MONDAY + dt.timedelta(hours=3)):
        tenant.api.patch(path, json={"status": "Waiting on Client"})
    attempt(tenant, path, MONDAY + dt.timedelta(hours=4))
    assert status(tenant, path) == "Waiting on Client"
    attempt(tenant, path, MONDAY + dt.timedelta(hours=5))
    assert status(tenant, path) == "Closed"


def test_reaching_the_client_or_leaving_waiting_starts_the_count_again(tenant):
    path = setup(tenant, autoclose_attempts=2)
    with clock.travel(MONDAY):
        tenant.api.patch(path, json={"status": "Waiting on Client"})
    attempt(tenant, path, MONDAY + dt.timedelta(hours=1))
    attempt(tenant, path, MONDAY + dt.timedelta(hours=2), outcome="reached")
    attempt(tenant, path, MONDAY + dt.timedelta(hours=3))
    assert status(tenant, path) == "Waiting on Client"
    with clock.travel(MONDAY + dt.timedelta(hours=4)):
        tenant.api.patch(path, json={"status": "In Progress"})
        tenant.api.patch(path, json={"status": "Waiting on Client"})
    attempt(tenant, path, MONDAY + dt.timedelta(hours=5))
    assert status(tenant, path) == "Waiting on Client"
    attempt(tenant, path, MONDAY + dt.timedelta(hours=6))
    assert status(tenant, path) == "Closed"


def test_sweep_closes_after_business_days_waiting_with_the_board_note(tenant, psa, monkeypatch):
    path = setup(tenant, autoclose_business_days=3, autoclose_note="Closing for now; write back any time.")
    friday = MONDAY + dt.timedelta(days=4)
    with clock.travel(friday):
        tenant.api.patch(path, json={"status": "Waiting on Client"})
    runner = CliRunner()
    with clock.travel(friday + dt.timedelta(days=4)):  # Tuesday: two business days
        assert runner.invoke(tickets_group, ["sweep"]).output == "auto-closed 0 ticket(s)\n"
    assert status(tenant, path) == "Waiting on Client"
    with clock.travel(friday + dt.timedelta(days=5)):  # Wednesday: three
        result = runner.invoke(tickets_group, ["sweep"])
    assert result.exit_code == 0 and result.output == "auto-closed 1 ticket(s)\n", result.output
    closed = tenant.api.get(path).json
    assert closed["status"] == "Closed" and closed["closed_at"] == "2026-03-11T09:00:00Z"
    client_trail = tenant.api.get(f"{path}/timeline?audience=client").json["items"]
    assert client_trail[-1]["kind"] == "note" and client_trail[-1]["text"] == "Closing for now; write back any time."
    assert client_trail[-1]["actor"]["id"] is None
    (closing,) = [e for e in psa.emitted("ticket.status_changed") if e.payload["status"] == "Closed"]
    assert closing.actor == "system:autoclose"


def waiting_since_friday(tenant) -> str:
    path = setup(tenant, autoclose_business_days=3, autoclose_note="Closing for now; write back any time.")
    with clock.travel(MONDAY + dt.timedelta(days=4)):
        tenant.api.patch(path, json={"status": "Waiting on Client"})
    return path


def test_the_tickets_worker_closes_waiting_tickets_with_nobody_logging_time(tenant, psa):
    """A days-only policy needs no new entry: the worker's sweep closes the ticket on its own."""
    path = waiting_since_friday(tenant)
    loops = [loop for loop in psa.periodic_loops() if loop.name == "tickets-sweep"]
    assert len(loops) == 1
    with clock.travel(MONDAY + dt.timedelta(days=9)):  # the Wednesday after: three business days
        loops[0].start()
        try:
            deadline = time.monotonic() + 10
            while status(tenant, path) != "Closed" and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            loops[0].stop()
            loops[0].join(5)
    assert status(tenant, path) == "Closed"


def test_one_tenants_failing_sweep_does_not_stop_the_others(tenant, other_tenant, psa, monkeypatch, caplog):
    ours, theirs = waiting_since_friday(tenant), waiting_since_friday(other_tenant)
    real = commands.sweep_tenant

    def broken_for_the_other_tenant(tenant_id):
        if str(tenant_id) == str(other_tenant.id):
            raise RuntimeError("a board the sweep cannot read")
        return real(tenant_id)

    monkeypatch.setattr(commands, "sweep_tenant", broken_for_the_other_tenant)
    with clock.travel(MONDAY + dt.timedelta(days=9)):
        result = CliRunner().invoke(tickets_group, ["sweep"])
    assert result.output == "auto-closed 1 ticket(s), 1 tenant(s) failed (logged)\n", result.output
    assert result.exit_code == 1  # a cron job or timer sees the failure (until 2026-11-28 it exited 0)
    assert (status(tenant, ours), status(other_tenant, theirs)) == ("Closed", "Waiting on Client")
    assert "a board the sweep cannot read" in caplog.text and str(other_tenant.id) in caplog.text


@pytest.mark.parametrize("seconds", ["0", "-300", "five minutes", "", "nan", "inf"])
def test_a_sweep_interval_that_is_no_positive_number_refuses_the_worker_start_naming_it(seconds):
    """Until 2026-11-28 a 0 or less swept in a tight loop, and a word stopped the worker's start
    with a bare ValueError."""
    with pytest.raises(StartupError) as refused:
        commands.sweep_job(Settings.from_env({"PSA_TICKETS_SWEEP_SECONDS": seconds}))
    assert str(refused.value) == f"PSA_TICKETS_SWEEP_SECONDS must be a number of seconds above 0, not {seconds!r}"


@pytest.mark.parametrize(("seconds", "every"), [(None, 300.0), ("60", 60.0), ("0.5", 0.5)])
def test_a_sweep_interval_of_seconds_above_0_is_taken(seconds, every):
    environ = {} if seconds is None else {"PSA_TICKETS_SWEEP_SECONDS": seconds}
    [job] = commands.sweep_job(Settings.from_env(environ))
    assert (job.name, job.seconds) == ("tickets-sweep", every)
