"""The vault's own database (never shared with another service) and its model bases."""

import hashlib

import peewee

from psa_shared.db import ServiceDatabase, model_bases
from psa_shared.outbox import Inbox, Outbox


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def later_id(made: str, last: str | None) -> str:
    """An audit row's id (32 hex digits, as SQLite holds it): `made`, unless the chain's last row
    has a later one; then `made` moved to the millisecond after that one (`audit.append_from_head`)."""
    if last is None or made > last:
        return made
    return f"{int(last[:12], 16) + 1:012x}{made[12:]}"


# Vaults made before `known_tenant` existed list their tenants from their keys and audit chains
# once (on PostgreSQL before row-level security hides those tables from a query outside a tenant).
db = ServiceDatabase(
    "docs_vault",
    append_only=("vault_audit",),  # besides its triggers: the serving role lacks the privilege
    # the audit chain's hash and row id (audit.install_guards makes PostgreSQL's)
    sqlite_functions={"psa_sha256": sha256_hex, "psa_audit_id": later_id},
    added_columns=(
        "configurationactivity.client_id",  # 2026-11-27: history follows client grants
        "vault_audit.attachment_id",  # 2026-11-28: attachment downloads are audited
        "vault_audit_head.last_id",  # 2026-11-28: audit ids follow the chain
    ),
    upgrades=(
        "INSERT INTO known_tenant (id) SELECT id FROM (SELECT tenant_id AS id FROM tenantkey "
        "UNION SELECT id FROM vault_audit_head) AS held WHERE true ON CONFLICT DO NOTHING",  # SQLite needs the WHERE
    ),
)
outbox = Outbox(db)
inbox = Inbox(db)
emit = outbox.emit
Model, GlobalModel = model_bases(db)


class KnownTenant(GlobalModel):
    """A tenant the vault holds data keys or an audit chain for. Maintenance (key rotation, audit
    verification) walks these from outside any tenant, where row-level security shows no tenant
    table; an id tells nothing of the tenant's data."""

    id = peewee.UUIDField(primary_key=True)

    class Meta:
        table_name = "known_tenant"


def know_tenant(tenant_id) -> None:
    KnownTenant.insert(id=tenant_id).on_conflict_ignore().execute()


def known_tenants() -> list:
    return [row.id for row in KnownTenant.select().order_by(KnownTenant.id)]
