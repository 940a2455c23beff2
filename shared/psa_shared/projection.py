"""Read models fed by events: a row per source record, kept at the newest version seen.

Events of one record can arrive out of order and, with several consumers on a queue, at the same
time. The comparison with what is held is the UPDATE's own condition, so on PostgreSQL a consumer
that waited for the row while another committed a newer version compares against that version
(read first and written after, an older event overwrote the newer one).
"""

from __future__ import annotations

import datetime as dt

import peewee


def apply_newer(model: type[peewee.Model], row_id, updated_at: dt.datetime, fields: dict) -> bool:
    """Insert the row, or update it unless it holds a newer `updated_at`. True when written.

    Two first versions inserted at once: one raises IntegrityError and its event is retried."""
    values = {"updated_at": updated_at, **fields}
    if model.update(**values).where((model.id == row_id) & (model.updated_at <= updated_at)).execute():
        return True
    if model.select(model.id).where(model.id == row_id).exists():
        return False
    model.insert(id=row_id, **values).execute()
    return True
