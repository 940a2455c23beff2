"""Tenant isolation fails closed: code that forgets the tenant raises instead of leaking."""

import peewee
import pytest

from psa_shared.tenancy import TenantModel, TenantScopeError, tenant_scope
from psa_tickets.directory.models import Client, Member

# Tables above tenants, each for a reason: the tenants themselves, the event plumbing (outbox,
# inbox and embedded mode's dead-letter rows carry their tenant inside the event), the ids of the
# tenants the vault's maintenance walks (row-level security hides every tenant table from it), and
# the sign-in ceilings, counted per client address across tenants and for made-up tenant ids that
# have no scope (counts only: no member, email or client in them).
ALLOWED_GLOBAL = {"Tenant", "OutboxEvent", "InboxEvent", "DeadLetter", "KnownTenant", "SignInCeiling"}


def test_every_model_is_tenant_scoped_or_on_the_short_allowlist(psa):
    for service in psa.services:
        for model in service.db.models:
            assert issubclass(model, TenantModel) or model.__name__ in ALLOWED_GLOBAL, model.__name__


def test_every_tenant_index_leads_with_tenant_id(psa):
    for service in psa.services:
        for model in service.db.models:
            if not issubclass(model, TenantModel):
                continue
            for fields, _unique in model._meta.indexes:
                assert fields[0] == "tenant_id", f"{model.__name__} index {fields}"


def test_query_without_tenant_raises(psa, tenant):
    with psa.service("tickets").db.proxy.connection_context():
        for query in (Client.select, lambda: Client.update(name="x"), Client.delete, lambda: Member.get_or_none()):
            with pytest.raises(TenantScopeError):
                query()
        with pytest.raises(TenantScopeError):
            Client.create(number=1, name="no tenant")
        with pytest.raises(TenantScopeError):
            Client.raw("SELECT * FROM client")


def test_rows_cannot_be_written_into_another_tenant(psa, tenant, other_tenant):
    with psa.service("tickets").db.proxy.connection_context(), tenant_scope(tenant.id), pytest.raises(TenantScopeError):
        Client.insert(tenant_id=other_tenant.id, number=5, name="smuggled").execute()


def test_a_tenant_sees_only_its_own_rows(psa, tenant, other_tenant):
    tenant.client("Mine")
    other_tenant.client("Theirs")
    with psa.service("tickets").db.proxy.connection_context(), tenant_scope(tenant.id):
        assert [c.name for c in Client.select()] == ["Mine"]
        assert Client.update(name="renamed").execute() == 1  # only ours


def test_peewee_is_not_bypassed_by_model_helpers(psa, tenant):
    with psa.service("tickets").db.proxy.connection_context(), pytest.raises(TenantScopeError):
        Client.get_by_id("01a213de-6a3c-7977-86ce-ff7916166895")
    assert issubclass(TenantScopeError, RuntimeError) and not issubclass(TenantScopeError, peewee.PeeweeException)
