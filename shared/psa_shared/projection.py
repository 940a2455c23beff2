"""Read models fed by events: a row per source record, kept at the newest version seen.

Events of one record can arrive out of order and, with several consumers on a queue, at the same
time. Each version is applied by one statement, an upsert whose update runs only over an older
version: the comparison is the database's own, against the row as committed, so an older event
never overwrites a newer one (read first and written after, it did on PostgreSQL), and two first
versions of one record arriving at once both land, the newer one kept (inserted after a check,
one of them failed on the primary key).
"""

from __future__ import annotations

import datetime as dt

import peewee

from .tenancy import current_tenant


def apply_newer(model: type[peewee.Model], row_id, updated_at: dt.datetime, fields: dict) -> bool:
    """Insert the row, or update it unless it holds a newer `updated_at`. True when written."""
    values = {"updated_at": updated_at, **fields}
    newer = (model.updated_at <= updated_at) & (model.tenant_id == current_tenant())
    query = (
        model.insert(id=row_id, **values)
        .on_conflict(conflict_target=[model.id], update=values, where=newer)
        .returning(model.id)
    )
    return bool(list(query.execute()))
