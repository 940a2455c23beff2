"""Maintenance walks every tenant the vault holds data for, though row-level security hides each
tenant's tables from it: the tenants' ids are kept above them, in `known_tenant`."""

from click.testing import CliRunner

from psa_docs_vault.cli import vault
from psa_docs_vault.database import KnownTenant, known_tenants

from .test_vault_crypto import _many


def test_key_rotation_and_audit_verification_reach_every_tenant(psa, tenant, other_tenant):
    _many(psa, tenant, 2)
    _many(psa, other_tenant, 2)
    for command, says in (("rotate-tenant-key", "2 re-encrypted, 0 remaining"), ("verify-audit", "rows, ok")):
        result = CliRunner().invoke(vault, [command])
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        for handle in (tenant, other_tenant):
            assert any(line.startswith(f"{handle.id}: ") and says in line for line in lines), result.output


def test_an_older_vault_learns_its_tenants_from_their_keys_and_chains_at_start(psa, tenant, other_tenant):
    _many(psa, tenant, 1)
    _many(psa, other_tenant, 1)
    with psa.as_owner("docs_vault") as db, db.proxy.connection_context():
        assert {str(t) for t in known_tenants()} == {tenant.id, other_tenant.id}
        KnownTenant.delete().execute()  # as a vault made before the table existed
        if db.is_postgres:  # which had no row-level security either
            for table in ("tenantkey", "vault_audit_head"):
                db.proxy.execute_sql(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
    psa.service("docs_vault").bind(psa.settings)  # the next start
    with psa.service("docs_vault").db.proxy.connection_context():
        assert {str(t) for t in known_tenants()} == {tenant.id, other_tenant.id}


def test_a_mistyped_tenant_is_refused_rather_than_verified_as_an_empty_chain(psa, tenant):
    """An admin pastes a tenant id with a typo into `verify-audit`: "0 rows, ok" read as an
    untouched chain. An id that is none, or a tenant the vault does not know, is a usage error
    (exit 2) naming --tenant; so is a rotation slice of no rows."""
    _many(psa, tenant, 1)
    unknown = "01a21dc3-0000-7000-8000-000000000000"
    for command in ("verify-audit", "rotate-tenant-key"):
        for value, says in (("junk", "not a valid UUID"), (unknown, f"the vault knows no tenant {unknown}")):
            result = CliRunner().invoke(vault, [command, "--tenant", value])
            assert result.exit_code == 2 and "--tenant" in result.output and says in result.output, result.output
    for rows in ("0", "-1"):
        result = CliRunner().invoke(vault, ["rotate-tenant-key", "--max-rows", rows])
        assert result.exit_code == 2 and "--max-rows" in result.output, result.output
    result = CliRunner().invoke(vault, ["verify-audit", "--tenant", tenant.id])
    assert result.exit_code == 0 and f"{tenant.id}: 1 rows, ok" in result.output, result.output


def test_on_a_new_install_each_command_says_there_is_nothing_to_do(psa):
    for command in ("rotate-master-key", "rotate-tenant-key", "verify-audit"):
        result = CliRunner().invoke(vault, [command])
        assert result.exit_code == 0, result.output
        assert "the vault holds no tenant's keys or audit rows yet: nothing to do" in result.output
