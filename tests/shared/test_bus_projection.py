"""Events reach the vault's projection; a vault that does not know a member refuses them."""

import datetime as dt

from psa_docs_vault.projection import MemberRecord
from psa_shared.tenancy import tenant_scope


def test_member_events_reach_the_vault_projection(psa, tenant):
    tech = tenant.member("technician")
    psa.settle()
    with psa.service("docs_vault").db.proxy.connection_context(), tenant_scope(tenant.id):
        record = MemberRecord.get_by_id(tech.id)
    assert record.role == "technician" and record.active


def test_a_deactivation_stamped_by_a_host_whose_clock_is_behind_still_reaches_the_vault(psa, tenant):
    """The member's last change was stamped an hour ahead (another tickets host's clock, or this
    one's before NTP stepped it back), and the vault holds that version. The deactivation made now
    must still be the newer one there: until 2026-11-28 it was stamped with the slower clock, the
    vault dropped it as older, and the leaver kept revealing passwords until their tokens expired."""
    from psa_tickets.directory.models import Member

    tech = tenant.member("technician")
    psa.settle()
    ahead = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1)
    for service, model in (("tickets", Member), ("docs_vault", MemberRecord)):
        with psa.service(service).db.proxy.connection_context(), tenant_scope(tenant.id):
            model.update(updated_at=ahead).where(model.id == tech.id).execute()
    assert tenant.api.post(f"/api/v1/members/{tech.id}/deactivate").status_code == 200
    psa.settle()
    with psa.service("docs_vault").db.proxy.connection_context(), tenant_scope(tenant.id):
        assert MemberRecord.get_by_id(tech.id).active is False
