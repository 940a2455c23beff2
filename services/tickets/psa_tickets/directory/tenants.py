"""Setting up an MSP: the tenant and its first admin, in one transaction."""

from __future__ import annotations

from psa_shared.tenancy import tenant_scope

from ..database import db, emit
from ..servicedesk.boards import seed_defaults
from .members import create_member
from .models import Member, Tenant


def create_tenant(
    name: str, admin_email: str, admin_password: str | None = None, time_zone: str = "UTC"
) -> tuple[Tenant, Member]:
    with db.proxy.atomic():
        tenant = Tenant.create(name=name, time_zone=time_zone)
        with tenant_scope(tenant.id):
            emit("tenant.created", {"id": tenant.id, "name": tenant.name, "time_zone": tenant.time_zone})
            admin = create_member(admin_email, "Administrator", "admin", password=admin_password)
            seed_defaults()
    return tenant, admin


def get_tenant(tenant_id) -> Tenant | None:
    return Tenant.get_or_none(Tenant.id == tenant_id)
