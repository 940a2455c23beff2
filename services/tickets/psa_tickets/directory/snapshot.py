"""What every request of a tenant reads (its members, boards, SLA targets, business hours), kept
per process for one directory generation.

A request reads the tenant's generation (one integer) once; while it is unchanged the rows loaded
for it are reused, and any change bumps it in its own transaction (`directory_changed`), so a
deactivated member or a renamed status counts from the next request in every process.
Cached rows are shared between threads: read them, never change and save them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import peewee

from psa_shared.statements import Statement
from psa_shared.tenancy import current_tenant, scope_memo

from ..database import Model

MAX_TENANTS = 1000  # a process serving more tenants than this starts over rather than grow


class Generation(Model):
    """How many times the tenant's members, grants, boards, SLA targets or settings have changed."""

    value = peewee.BigIntegerField(default=0)

    class Meta:
        indexes = ((("tenant_id",), True),)


_GENERATION = Statement(lambda: Generation.select(Generation.value))


def directory_changed() -> None:
    """Call inside the transaction that changes members, grants, boards, statuses, targets or settings:
    a bump committed apart from its change would let another process cache the old rows under the
    new number."""
    if not Generation.update(value=Generation.value + 1).execute():
        Generation.create(value=1)
    forget()


class Snapshot:
    def __init__(self, generation: int):
        self.generation = generation
        self.loaded: dict[Any, Any] = {}

    def get(self, key, load: Callable[[], Any]):
        """`load()` once per generation; a `None` result is not kept (an unknown member may appear)."""
        if key in self.loaded:
            return self.loaded[key]
        value = load()
        if value is not None:
            self.loaded[key] = value
        return value


_snapshots: dict[uuid.UUID, Snapshot] = {}


def snapshot() -> Snapshot:
    """The tenant in context's snapshot, checked against the database once per tenant scope
    (a request, an event)."""
    memo = scope_memo()
    found = memo.get(Snapshot)
    if found is not None:
        return found
    tenant = current_tenant()
    generation = _GENERATION.scalar() or 0
    found = _snapshots.get(tenant)
    if found is None or found.generation != generation:
        if len(_snapshots) >= MAX_TENANTS:
            _snapshots.clear()
        found = _snapshots[tenant] = Snapshot(generation)
    memo[Snapshot] = found
    return found


def forget() -> None:
    """After a change in this scope: its next read must see the new generation."""
    scope_memo().pop(Snapshot, None)
    _snapshots.pop(current_tenant(), None)
