"""Attachment metadata; the bytes live in the attachment store under `<tenant>/<id>`."""

import peewee

from psa_shared.outbox import utcnow

from ..configurations.models import Configuration
from ..database import Model


class Attachment(Model):
    configuration = peewee.ForeignKeyField(Configuration, backref="attachments", index=False)  # in the tenant index
    filename = peewee.CharField(max_length=200)  # shown and offered on download, never a path
    content_type = peewee.CharField(max_length=100)  # ours, from the allow-list
    size = peewee.BigIntegerField()
    sha256 = peewee.CharField(max_length=64)
    uploaded_by = peewee.UUIDField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("tenant_id", "configuration", "id"), False),)
