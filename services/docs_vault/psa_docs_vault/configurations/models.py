"""The configuration table. Lists and custom fields are stored as text so SQLite and PostgreSQL agree."""

import json

import peewee

from psa_shared.outbox import utcnow

from ..database import Model

TYPES = ("firewall", "switch", "server", "workstation", "printer", "license", "other")


class Configuration(Model):
    """A documented device, license or other item of one client (`active` false once retired)."""

    client_id = peewee.UUIDField()
    type = peewee.CharField(max_length=20)
    name = peewee.CharField(max_length=200)
    serial = peewee.CharField(max_length=100, null=True)
    manufacturer = peewee.CharField(max_length=100, null=True)
    device_model = peewee.CharField(max_length=100, null=True, column_name="model")  # `model` clashes with peewee
    ip_addresses = peewee.TextField(default="")  # space-separated, canonical form
    external_ip = peewee.CharField(max_length=45, null=True)
    location = peewee.CharField(max_length=200, null=True)
    warranty_end = peewee.DateField(null=True)
    custom_fields = peewee.TextField(default="{}")  # JSON object of short strings
    notes = peewee.TextField(null=True)
    active = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("tenant_id", "client_id", "id"), False),
            (("tenant_id", "type", "id"), False),
        )

    @property
    def ip_list(self) -> list[str]:
        return self.ip_addresses.split()

    @ip_list.setter
    def ip_list(self, addresses: list[str]) -> None:
        self.ip_addresses = " ".join(addresses)

    @property
    def custom(self) -> dict[str, str]:
        return json.loads(self.custom_fields or "{}")

    @custom.setter
    def custom(self, values: dict[str, str]) -> None:
        self.custom_fields = json.dumps(values, sort_keys=True)
