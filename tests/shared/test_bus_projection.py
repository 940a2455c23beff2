"""Events reach the vault's projection; a vault that does not know a member refuses them."""

from psa_docs_vault.projection import MemberRecord
from psa_shared.tenancy import tenant_scope


def test_member_events_reach_the_vault_projection(psa, tenant):
    tech = tenant.member("technician")
    psa.settle()
    with psa.service("docs_vault").db.proxy.connection_context(), tenant_scope(tenant.id):
        record = MemberRecord.get_by_id(tech.id)
    assert record.role == "technician" and record.active
