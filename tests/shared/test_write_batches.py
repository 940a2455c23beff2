"""A transaction of writes (`db.atomic_writes()`, one round trip on PostgreSQL) keeps every promise
of `atomic()`: all or nothing, in order, and a refused write is the usual peewee error."""

import threading

import peewee
import pytest

from psa_shared.ids import new_id
from psa_shared.statements import Insert
from psa_shared.tenancy import tenant_scope
from psa_shared.testing import end_server_processes
from psa_tickets.servicedesk.models import TicketChange

TRAIL = Insert(TicketChange)
# On PostgreSQL the block's values are bound on the client (psycopg quotes them): text that
# would break naive quoting must arrive exactly as written.
QUOTED = "Called O'Brien; left voicemail -- \\server\\share 100% done $1 %s ?"


def _ticket(tenant) -> dict:
    client = tenant.client("Acme Dental")
    return tenant.api.post("/api/v1/tickets", json={"client_id": client["id"], "summary": "Mailbox full"}).json


def _calls() -> list[str]:
    return sorted(c.text for c in TicketChange.select().where(TicketChange.kind == "call"))


def _call(ticket_id, text: str) -> TicketChange:
    return TicketChange(ticket=ticket_id, kind="call", text=text)


def test_writes_land_together_and_a_read_between_them_sees_the_ones_before(psa, tenant):
    ticket = _ticket(tenant)
    db = psa.service("tickets").db
    with db.proxy.connection_context(), tenant_scope(tenant.id):
        with db.atomic_writes():
            TRAIL.write(_call(ticket["id"], "Called client. Left voicemail."))
            seen = _calls()
            TRAIL.write(_call(ticket["id"], QUOTED))
        assert seen == ["Called client. Left voicemail."]
        assert _calls() == sorted(["Called client. Left voicemail.", QUOTED])  # bound, never spliced


def test_a_refused_write_raises_the_peewee_error_and_keeps_nothing_of_the_block(psa, tenant):
    ticket = _ticket(tenant)
    db = psa.service("tickets").db
    with db.proxy.connection_context(), tenant_scope(tenant.id):
        with pytest.raises(peewee.IntegrityError), db.atomic_writes():
            TRAIL.write(_call(ticket["id"], "Called client. Left voicemail."))
            TRAIL.write(_call(new_id(), "A call on a ticket nobody opened"))  # foreign key refuses it
        assert _calls() == []
        TRAIL.write(_call(ticket["id"], "Called again."))  # the connection goes on serving
        assert _calls() == ["Called again."]


def test_an_error_raised_in_the_block_keeps_nothing(psa, tenant):
    ticket = _ticket(tenant)
    db = psa.service("tickets").db
    with db.proxy.connection_context(), tenant_scope(tenant.id):
        with pytest.raises(ZeroDivisionError), db.atomic_writes():
            TRAIL.write(_call(ticket["id"], "Called client. Left voicemail."))
            1 / 0  # noqa: B018
        assert _calls() == []


def test_a_block_inside_a_transaction_is_part_of_it(psa, tenant):
    ticket = _ticket(tenant)
    db = psa.service("tickets").db
    with db.proxy.connection_context(), tenant_scope(tenant.id):
        with pytest.raises(ZeroDivisionError), db.proxy.atomic():
            with db.atomic_writes():
                TRAIL.write(_call(ticket["id"], "Called client. Left voicemail."))
            1 / 0  # noqa: B018
        assert _calls() == []


def test_a_pooled_connection_that_died_while_idle_is_replaced(psa, tenant, monkeypatch):
    """The pool pings a connection only after it sat idle (`PING_IDLE_AFTER`); one whose server
    process went away meanwhile is dropped, and the request gets a fresh one."""
    if psa.backend != "real":
        pytest.skip("PostgreSQL's pool")
    database = psa.service("tickets").db.proxy.obj
    tenant.client("Acme Dental")  # the pool now holds a connection
    end_server_processes(database.database)
    monkeypatch.setattr(type(database), "PING_IDLE_AFTER", 0.0)  # as if a second had passed
    assert tenant.api.get("/api/v1/clients").status_code == 200


def test_a_connection_that_died_in_use_fails_one_request_as_unavailable(psa, tenant, other_tenant):
    """Used a moment ago, it is handed out unpinged: that request is told to retry (503
    problem+json, as for any database outage), and the pool drops the connection for the next.
    Another tenant's request first sets the connection's tenant, which fails the same way."""
    if psa.backend != "real":
        pytest.skip("PostgreSQL's pool")
    for caller in (tenant, other_tenant):
        tenant.client("Acme Dental")  # the connection now serves the first tenant
        end_server_processes(psa.service("tickets").db.proxy.obj.database)
        response = caller.api.get("/api/v1/clients")
        assert (response.status_code, response.mimetype) == (503, "application/problem+json")
        assert caller.api.get("/api/v1/clients").status_code == 200


def _holding_every_connection(database, release: threading.Event) -> threading.Thread:
    """A thread that takes the pool's one connection and gives it back once `release` is set."""
    taken = threading.Event()

    def hold():
        with database.connection_context():
            taken.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    return holder


def test_a_request_finding_the_pool_full_waits_for_a_connection(psa, tenant, monkeypatch):
    """`psa serve` runs a thread per request, more than the pool holds: the request past the pool
    waits for a connection to come back (until 2026-11-27 it was a 500 at once)."""
    database = psa.service("tickets").db.proxy.obj
    tenant.client("Acme Dental")
    database.close_all()
    monkeypatch.setattr(database, "_max_connections", 1)
    release = threading.Event()
    holder = _holding_every_connection(database, release)
    threading.Timer(0.3, release.set).start()
    try:
        assert tenant.api.get("/api/v1/clients").status_code == 200
    finally:
        release.set()
        holder.join()


def test_a_request_the_pool_cannot_serve_in_time_is_told_to_retry(psa, tenant, monkeypatch):
    database = psa.service("tickets").db.proxy.obj
    tenant.client("Acme Dental")
    database.close_all()
    monkeypatch.setattr(database, "_max_connections", 1)
    monkeypatch.setattr(database, "_wait_timeout", 0.2)
    release = threading.Event()
    holder = _holding_every_connection(database, release)
    try:
        response = tenant.api.get("/api/v1/clients")
    finally:
        release.set()
        holder.join()
    assert (response.status_code, response.mimetype) == (503, "application/problem+json")
    assert response.headers["Retry-After"] == "1"
