"""`psa vault ...`: key rotation jobs, attachment sealing and audit verification, run outside any request."""

from __future__ import annotations

import uuid

import click

from psa_shared.tenancy import tenant_scope

from . import audit, keys, rotation
from .attachments import service as attachments
from .attachments.store import SealedStore, store_from_settings
from .database import known_tenants


def _bound():
    from psa_shared.cli import bound_system

    system = bound_system("docs_vault")
    keys.configure(system.settings)
    return system


def _tenants(tenant: uuid.UUID | None, found: list[uuid.UUID]) -> list[uuid.UUID]:
    """`--tenant`'s tenant, or every one. A tenant the vault does not know is refused (exit 2): a
    mistyped id verified as "0 rows, ok" looked like an untouched chain. With none at all it says
    so: until 2026-11-28 a command on a new install printed nothing, as if it had not run."""
    if tenant is None:
        if not found:
            click.echo("the vault holds no tenant's keys or audit rows yet: nothing to do")
        return found
    if tenant not in found:
        raise click.BadParameter(f"the vault knows no tenant {tenant}", param_hint="'--tenant'")
    return [tenant]


def _reseal_attachments(system, only: uuid.UUID | None = None) -> int:
    """Seal every tenant's attachment files under the current master key (plaintext ones written
    before sealing included); returns how many were left as they are (missing or damaged).
    Tenants are those the vault knows and those with a folder in the store, so none is missed."""
    folder = store_from_settings(system.settings)
    store = SealedStore(folder)
    left = 0
    found = sorted(set(known_tenants()) | set(folder.tenant_ids()))
    for tenant in _tenants(only, found) if (only or found) else []:  # "nothing to do" is said once
        with tenant_scope(tenant):
            outcomes = attachments.reseal_all(store)
        if outcomes:
            click.echo(f"{tenant}: attachments " + ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())))
        left += outcomes["missing"] + outcomes["damaged"]
    return left


@click.group("vault")
def vault() -> None:
    """Docs vault maintenance: master and tenant key rotation, attachment sealing, audit verification."""


@vault.command("rotate-master-key")
def rotate_master_key() -> None:
    """Rewrap every tenant's data keys and attachment file keys under the current (first) master
    key. Safe to rerun."""
    system = _bound()
    remaining = 0
    with system.service("docs_vault").db.proxy.connection_context():
        for tenant in _tenants(None, known_tenants()):
            with tenant_scope(tenant):
                progress = rotation.rewrap_master()
            remaining += progress.remaining
            click.echo(f"{tenant}: {progress.done} rewrapped, {progress.remaining} remaining")
        left = _reseal_attachments(system)
    if remaining:
        raise click.ClickException(f"{remaining} data keys still under an old master key; rerun")
    if left:
        click.echo(f"{left} attachment file(s) missing or damaged were left as they are (see the log)")
    click.echo("every data key and attachment is under the current master key; older master keys may be removed")


@vault.command("seal-attachments")
@click.option("--tenant", type=click.UUID, help="Only this tenant (default: every tenant).")
def seal_attachments(tenant: uuid.UUID | None) -> None:
    """Encrypt attachment files written before attachments were sealed, and rewrap the others
    under the current master key. Checks each plaintext against its SHA-256 first. Safe to rerun."""
    system = _bound()
    with system.service("docs_vault").db.proxy.connection_context():
        left = _reseal_attachments(system, tenant)
    if left:
        raise click.ClickException(f"{left} attachment file(s) missing or damaged were left as they are")


@vault.command("rotate-tenant-key")
@click.option("--tenant", type=click.UUID, help="Only this tenant (default: every tenant).")
@click.option("--max-rows", type=click.IntRange(min=1), default=None, help="Stop after this many rows (run in slices).")
def rotate_tenant_key(tenant: uuid.UUID | None, max_rows: int | None) -> None:
    """New data key version, every credential re-encrypted under it. Resumable: rerun to finish."""
    system = _bound()
    with system.service("docs_vault").db.proxy.connection_context():
        for tenant_id in _tenants(tenant, known_tenants()):
            with tenant_scope(tenant_id):
                progress = rotation.rotate_tenant(max_rows=max_rows)
            click.echo(f"{tenant_id}: {progress.done} re-encrypted, {progress.remaining} remaining")


@vault.command("verify-audit")
@click.option("--tenant", type=click.UUID, help="Only this tenant (default: every tenant).")
def verify_audit(tenant: uuid.UUID | None) -> None:
    """Recompute every tenant's audit chain; exits non-zero on any edit, gap or cut tail."""
    system = _bound()
    failed = 0
    with system.service("docs_vault").db.proxy.connection_context():
        for tenant_id in _tenants(tenant, known_tenants()):
            with tenant_scope(tenant_id):
                verdict = audit.verify()
            status = "ok" if verdict.ok else "TAMPERED"
            click.echo(f"{tenant_id}: {verdict.rows} rows, {status}")
            for problem in verdict.problems:
                click.echo(f"  {problem}")
            failed += not verdict.ok
    if failed:
        raise click.ClickException(f"{failed} tenant chain(s) failed verification")
