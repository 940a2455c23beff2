"""Changing a stored record: set only what differs (`apply_changes`), then stamp its version (`touch`)."""

import datetime as dt

from .outbox import utcnow


def apply_changes(row, changes: dict) -> bool:
    """Set on `row` the fields of `changes` (attribute names, values as the schema parsed them:
    ids as UUIDs, times as naive UTC) that differ from what it holds; whether any did. A field set
    to its own value would still be written and announced: consumers would be sent an edit that
    changed nothing."""
    differ = {name: value for name, value in changes.items() if getattr(row, name) != value}
    for name, value in differ.items():
        setattr(row, name, value)
    return bool(differ)


def touch(row) -> None:
    """Stamp a change in `row.updated_at`: now, or just after the version before where that is
    later. Read models keep a record at the newest `updated_at` they saw (`projection.apply_newer`),
    so a change stamped by a host whose clock is behind the one that stamped the last, or after a
    clock stepped back, would be dropped there (a leaver's deactivation, until 2026-11-28)."""
    now = utcnow()
    row.updated_at = max(now, row.updated_at + dt.timedelta(microseconds=1)) if row.updated_at else now
