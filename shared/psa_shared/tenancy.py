"""Row-level tenancy that fails closed: no tenant in context, no query."""

from __future__ import annotations

import contextvars
import uuid
from contextlib import contextmanager

import peewee

from .ids import new_id

_tenant: contextvars.ContextVar[uuid.UUID | None] = contextvars.ContextVar("psa_tenant", default=None)
_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar("psa_tenant_memo", default=None)
# Who is acting (a member id, or "system:<job>") and the request's correlation id: stamped on events.
actor: contextvars.ContextVar[str | None] = contextvars.ContextVar("psa_actor", default=None)
correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("psa_correlation", default=None)


class TenantScopeError(RuntimeError):
    """Tenant data was touched without a tenant in context: a bug, never a silent leak."""


def current_tenant() -> uuid.UUID:
    tenant = _tenant.get()
    if tenant is None:
        raise TenantScopeError("no tenant in context: wrap the work in tenant_scope(tenant_id)")
    return tenant


def tenant_or_none() -> uuid.UUID | None:
    return _tenant.get()


def scope_memo() -> dict:
    """Values worth keeping while the current tenant scope lasts (a request, an event, a command):
    worked out once per scope and never seen by another tenant's."""
    memo = _memo.get()
    if memo is None:
        raise TenantScopeError("no tenant in context: wrap the work in tenant_scope(tenant_id)")
    return memo


@contextmanager
def tenant_scope(tenant_id: uuid.UUID | str):
    """Run the block as tenant `tenant_id`; every TenantModel query inside is scoped to it."""
    tokens = enter_tenant(tenant_id)
    try:
        yield
    finally:
        leave_tenant(tokens)


@contextmanager
def acting_as(who: str):
    """Run the block as `who` (a member id, or `system:<job>` for work no member asked for): the
    actor stamped on the events it emits."""
    token = actor.set(who)
    try:
        yield
    finally:
        actor.reset(token)


def enter_tenant(tenant_id: uuid.UUID | str) -> tuple:
    """For request hooks that cannot use a with-block; pair with `leave_tenant`. Re-entering the
    tenant already in context keeps its memo."""
    tenant = uuid.UUID(str(tenant_id))
    memo = _memo.get() if _tenant.get() == tenant else None
    return _tenant.set(tenant), _memo.set({} if memo is None else memo)


def leave_tenant(tokens: tuple) -> None:
    tenant_token, memo_token = tokens
    _memo.reset(memo_token)
    _tenant.reset(tenant_token)


class TenantModel(peewee.Model):
    """Base of every tenant-owned table.

    Every select, update and delete is filtered by the tenant in context, and inserts take it
    as their `tenant_id`; without a tenant in context each of them raises TenantScopeError.
    Service bases subclass this with `Meta.database` set to their own database proxy.
    """

    __abstract__ = True

    id = peewee.UUIDField(primary_key=True, default=new_id)
    tenant_id = peewee.UUIDField(default=current_tenant, index=False)

    @classmethod
    def select(cls, *fields):
        return super().select(*fields).where(cls.tenant_id == current_tenant())

    @classmethod
    def update(cls, __data=None, **update):
        return super().update(__data, **update).where(cls.tenant_id == current_tenant())

    @classmethod
    def delete(cls):
        return super().delete().where(cls.tenant_id == current_tenant())

    @classmethod
    def insert(cls, __data=None, **insert):
        _check_row(cls, {**(__data or {}), **insert})
        return super().insert(__data, **insert)

    @classmethod
    def insert_many(cls, rows, fields=None):
        rows = [_with_tenant(cls, row) for row in rows] if fields is None else rows
        return super().insert_many(rows, fields)

    @classmethod
    def raw(cls, sql, *params):
        raise TenantScopeError("raw SQL bypasses tenant scoping; use the query builder")


def _tenant_of(model, row: dict):
    for key in (model.tenant_id, "tenant_id"):
        if key in row:
            return row[key]
    return None


def _check_row(model, row: dict) -> None:
    tenant = current_tenant()
    given = _tenant_of(model, row)
    if given is not None and uuid.UUID(str(given)) != tenant:
        raise TenantScopeError(f"refusing to write a {model.__name__} row into another tenant")


def _with_tenant(model, row):
    if not isinstance(row, dict):
        raise TenantScopeError("insert_many on a tenant model takes dict rows")
    _check_row(model, row)
    return {**row, "tenant_id": current_tenant()} if _tenant_of(model, row) is None else row
