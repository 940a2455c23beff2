"""pytest fixtures for the directory: tenants, members and clients in one line each.

Registered as a pytest plugin by psa-tickets, so plugin authors get them by installing it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from psa_shared.testing import Http, PsaSystem

_seq = itertools.count(1)


@dataclass
class TenantHandle:
    """A tenant under test, with its admin signed in."""

    system: PsaSystem
    id: str
    admin_id: str
    token: str
    api: Http = field(init=False)

    def __post_init__(self):
        self.api = self.system.http.as_token(self.token)

    def member(
        self,
        role: str = "technician",
        *,
        grants: list | None = None,
        all_clients: bool | None = None,
        email: str | None = None,
        password: str = "correct horse battery",
    ) -> MemberHandle:
        """A new member signed in with a password; `grants` lists client ids they may see."""
        email = email or f"{role}{next(_seq)}@msp.example"
        made = self.api.post(
            "/api/v1/members", json={"email": email, "name": role.title(), "role": role, "password": password}
        )
        assert made.status_code == 201, made.json
        if grants is not None or all_clients is not None:
            body = {"all_clients": bool(all_clients), "client_ids": [str(c) for c in grants or []]}
            assert self.api.put(f"/api/v1/members/{made.json['id']}/grants", json=body).status_code == 200
        token = self.system.http.post(
            "/api/v1/auth/token", json={"tenant": self.id, "email": email, "password": password}
        ).json["access_token"]
        return MemberHandle(made.json["id"], email, token, self.system.http.as_token(token))

    def client(self, name: str | None = None, **fields) -> dict:
        made = self.api.post("/api/v1/clients", json={"name": name or f"Client {next(_seq)}", **fields})
        assert made.status_code == 201, made.json
        return made.json


@dataclass
class MemberHandle:
    id: str
    email: str
    token: str
    api: Http


def make_tenant(system: PsaSystem, name: str = "Acme MSP") -> TenantHandle:
    from psa_shared.auth import KeyRing
    from psa_shared.tenancy import tenant_scope

    from .directory.tenants import create_tenant
    from .directory.tokens import member_view

    with system.service("tickets").db.proxy.connection_context():
        tenant, admin = create_tenant(name, f"admin{next(_seq)}@msp.example", "admin password 1")
        with tenant_scope(tenant.id):
            token = KeyRing.load(system.settings, issuer=True).mint(member_view(admin), 3600)
    return TenantHandle(system, str(tenant.id), str(admin.id), token)


@pytest.fixture
def tenant(psa) -> TenantHandle:
    """An MSP with its admin signed in (`tenant.api` sends the admin's token)."""
    return make_tenant(psa, "Acme MSP")


@pytest.fixture
def other_tenant(psa) -> TenantHandle:
    """A second MSP, for proving that nothing crosses between tenants."""
    return make_tenant(psa, "Other MSP")
