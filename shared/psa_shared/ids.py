"""Public ids: time-ordered UUIDs (v7), so primary-key indexes stay compact and lists sort by age."""

import uuid

import uuid6


def new_id() -> uuid.UUID:
    return uuid.UUID(int=uuid6.uuid7().int)


def is_uuid(value) -> bool:
    """A string that reads as a UUID (anything else, a number or None, is not one)."""
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
