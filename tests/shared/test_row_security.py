"""PostgreSQL's row-level security, the second wall: SQL that forgets the tenant sees no rows.

TenantModel is the first wall (a query without a tenant raises). These tests go around it with
raw SQL, as a careless query or an injected one would, and find the database itself refusing.
"""

import os
import threading

import psycopg
import pytest

from psa_shared.tenancy import TenantModel, tenant_scope


@pytest.fixture
def tickets_db(psa):
    if psa.backend != "real":
        pytest.skip("row-level security is PostgreSQL's")
    return psa.service("tickets").db.proxy


def _names(proxy) -> list[str]:
    return sorted(name for (name,) in proxy.execute_sql("SELECT name FROM client").fetchall())


def test_every_tenant_table_forces_row_security_on_a_role_that_neither_skips_nor_owns_it(psa, tickets_db):
    for service in psa.services:
        proxy = service.db.proxy
        with proxy.connection_context():
            superuser, bypass = proxy.execute_sql(
                "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
            assert (superuser, bypass) == (False, False)
            for model in service.db.models:
                if not issubclass(model, TenantModel):
                    continue
                flags = proxy.execute_sql(
                    "SELECT relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner) = current_user "
                    "FROM pg_class WHERE oid = %s::regclass",
                    (f'"{model._meta.table_name}"',),
                ).fetchone()
                assert flags == (True, True, False), f"{service.name}: {model._meta.table_name}"
    app_role = psycopg.connect(os.environ["PSA_TICKETS_DATABASE_URL"])
    with app_role, pytest.raises(psycopg.errors.InsufficientPrivilege):  # "must be owner of table client"
        app_role.execute("ALTER TABLE client DISABLE ROW LEVEL SECURITY")


def test_sql_outside_a_tenant_sees_no_rows_and_writes_none(psa, tenant, tickets_db):
    tenant.client("Acme Dental")
    with tickets_db.connection_context():
        assert _names(tickets_db) == []  # the pooled connection served the tenant a moment ago
    with psycopg.connect(os.environ["PSA_TICKETS_DATABASE_URL"]) as raw:  # a fresh session, nothing set
        assert raw.execute("SELECT count(*) FROM client").fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            raw.execute(
                "INSERT INTO counter (id, tenant_id, name, value) VALUES (gen_random_uuid(), %s, 'x', 1)", (tenant.id,)
            )


def test_sql_inside_a_tenant_sees_that_tenant_only(psa, tenant, other_tenant, tickets_db):
    tenant.client("Mine")
    other_tenant.client("Theirs")
    with tickets_db.connection_context():
        with tenant_scope(tenant.id):
            assert _names(tickets_db) == ["Mine"]
        with tenant_scope(other_tenant.id):
            assert _names(tickets_db) == ["Theirs"]


def test_a_rolled_back_change_of_tenant_is_not_trusted_afterwards(psa, tenant, other_tenant, tickets_db):
    """Setting the tenant inside a transaction that rolls back undoes it: the connection must
    set it again, not believe it still holds."""
    tenant.client("Mine")
    other_tenant.client("Theirs")
    with tickets_db.connection_context():
        with tenant_scope(tenant.id):
            assert _names(tickets_db) == ["Mine"]  # set before the transaction
        with tenant_scope(tenant.id), pytest.raises(LookupError), tickets_db.atomic():
            with tenant_scope(other_tenant.id):
                assert _names(tickets_db) == ["Theirs"]  # set inside the transaction
            raise LookupError("the request fails: its transaction rolls back")
        with tenant_scope(other_tenant.id):  # the rollback put the setting back to the first tenant
            assert _names(tickets_db) == ["Theirs"]


def test_a_thousand_alternating_requests_over_two_pooled_connections_leak_nothing(
    psa, tenant, other_tenant, monkeypatch
):
    if psa.backend != "real":
        pytest.skip("row-level security is PostgreSQL's")
    tenant.client("Mine")
    other_tenant.client("Theirs")
    proxy = psa.service("tickets").db.proxy
    proxy.obj.close_all()
    monkeypatch.setattr(proxy.obj, "_max_connections", 2)
    seen = []

    def serve(turns):
        for n in range(turns):
            owner, expected = (tenant, ["Mine"]) if n % 2 else (other_tenant, ["Theirs"])
            with proxy.connection_context(), tenant_scope(owner.id):
                seen.append(_names(proxy) == expected)
            api = owner.api.get("/api/v1/clients")  # the same pool, through the app
            seen.append([c["name"] for c in api.get_json()["items"]] == expected)

    threads = [threading.Thread(target=serve, args=(250,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 1000 and all(seen)
