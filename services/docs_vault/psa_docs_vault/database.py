"""The vault's own database (never shared with another service) and its model bases."""

import peewee

from psa_shared.db import ServiceDatabase
from psa_shared.outbox import Inbox, Outbox
from psa_shared.tenancy import TenantModel

db = ServiceDatabase("docs_vault")
outbox = Outbox(db)
inbox = Inbox(db)
emit = outbox.emit


class Model(TenantModel):
    """A tenant-owned table of the vault."""

    __abstract__ = True

    class Meta:
        database = db.proxy


class GlobalModel(peewee.Model):
    """A table above tenants. Keep this list short."""

    __abstract__ = True

    class Meta:
        database = db.proxy
