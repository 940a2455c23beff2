"""The service desk's "now": naive UTC, and settable so stories spanning days can be replayed."""

import datetime as dt
from contextlib import contextmanager

from psa_shared.outbox import utcnow

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    return _frozen or utcnow()


@contextmanager
def travel(moment: dt.datetime):
    """Run the block as if it were `moment` (naive UTC): the demo seeds its story through this."""
    global _frozen
    previous, _frozen = _frozen, moment
    try:
        yield
    finally:
        _frozen = previous
