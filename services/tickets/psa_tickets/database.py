"""The tickets service's own database and the model bases bound to it."""

import peewee

from psa_shared.db import ServiceDatabase
from psa_shared.outbox import Inbox, Outbox
from psa_shared.tenancy import TenantModel

db = ServiceDatabase("tickets")
outbox = Outbox(db)
inbox = Inbox(db)
emit = outbox.emit


class Model(TenantModel):
    """A tenant-owned table of the tickets service."""

    __abstract__ = True

    class Meta:
        database = db.proxy


class GlobalModel(peewee.Model):
    """A table above tenants (the tenants themselves, counters keyed by tenant). Keep this list short."""

    __abstract__ = True

    class Meta:
        database = db.proxy
