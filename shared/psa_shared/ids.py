"""Public ids: time-ordered UUIDs (v7), so primary-key indexes stay compact and lists sort by age."""

import uuid

import uuid6


def new_id() -> uuid.UUID:
    return uuid.UUID(int=uuid6.uuid7().int)
