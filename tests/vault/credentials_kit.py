"""Shared steps for the credential stories: a vault that knows the tenant's members and clients."""

from __future__ import annotations

from contextlib import contextmanager

from psa_shared.tenancy import tenant_scope


def settle(psa) -> None:
    """The vault learns members, grants and clients from events only."""
    psa.settle()


def store(api, client_id: str, secret: str = "s3cret!", **fields) -> dict:
    body = {"client_id": client_id, "name": fields.pop("name", "Firewall admin"), "secret": secret, **fields}
    made = api.post("/api/v1/credentials", json=body)
    assert made.status_code == 201, made.json
    return made.json


def client_configuration(psa, tenant, kind: str, name: str) -> dict:
    """A configuration of a new client, the Dental Practice, known to the vault."""
    client = tenant.client("Dental Practice")
    psa.settle()
    made = tenant.api.post("/api/v1/configurations", json={"client_id": client["id"], "type": kind, "name": name})
    assert made.status_code == 201, made.json
    return made.json


def reveal(api, credential_id: str, reason: str | None = "ticket 1234"):
    return api.post(f"/api/v1/credentials/{credential_id}/reveal", json={"reason": reason})


@contextmanager
def vault_db(psa, tenant_id):
    """Direct access to the vault's tables as one tenant (for checks the API must not offer)."""
    with psa.service("docs_vault").db.proxy.connection_context(), tenant_scope(tenant_id):
        yield


def audit_rows(psa, tenant_id, **where) -> list:
    from psa_docs_vault.audit import AuditRow

    with vault_db(psa, tenant_id):
        query = AuditRow.select().order_by(AuditRow.seq)
        for name, value in where.items():
            query = query.where(getattr(AuditRow, name) == value)
        return list(query)
