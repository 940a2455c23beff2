"""Credential tables. The secret is stored only as AES-GCM ciphertext bound to its row."""

import peewee

from psa_shared.outbox import utcnow

from ..database import Model


class Credential(Model):
    client_id = peewee.UUIDField()
    configuration_id = peewee.UUIDField(null=True)
    name = peewee.CharField(max_length=200)
    username = peewee.CharField(max_length=200, null=True)
    url = peewee.CharField(max_length=2000, null=True)
    notes = peewee.TextField(null=True)
    secret_ct = peewee.BlobField()  # nonce || ciphertext; see crypto.aad for what it is bound to
    key_version = peewee.IntegerField()
    changed_at = peewee.DateTimeField(default=utcnow)  # when the secret last changed
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("tenant_id", "client_id"), False),
            (("tenant_id", "key_version"), False),
        )


class CredentialChange(Model):
    """What changed on a credential, by whom (names of fields only, never values)."""

    credential_id = peewee.UUIDField()
    actor_id = peewee.UUIDField(null=True)
    at = peewee.DateTimeField(default=utcnow)
    fields = peewee.CharField(max_length=200)
    secret_changed = peewee.BooleanField()

    class Meta:
        indexes = ((("tenant_id", "credential_id"), False),)


class VaultSettings(Model):
    """One row per tenant (`id` is the tenant id); absent means the defaults."""

    reveal_limit_per_hour = peewee.IntegerField(default=60)
    reason_required = peewee.BooleanField(default=False)
    updated_at = peewee.DateTimeField(default=utcnow)
