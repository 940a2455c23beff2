"""One row per tenant and plugin it has configured; a tenant with none has the defaults."""

import peewee

from psa_shared.outbox import utcnow

from ..database import Model


class PluginSettings(Model):
    plugin = peewee.CharField(max_length=100)  # the `psa` entry point's name
    enabled = peewee.BooleanField(default=True)
    settings = peewee.TextField(default="{}")  # JSON of the validated settings; secrets as {"env": NAME}
    updated_at = peewee.DateTimeField(default=utcnow)
    updated_by_id = peewee.UUIDField(null=True)  # the member who saved them (None: saved before 2026-11-28)
    # The tenant's last off period, from its switch-off to its switch-on: events that occurred in it
    # never reach the plugin, even delivered later (a backlog). switched_off_at None: never switched
    # off, or switched off before 2026-11-28 (the period then has no start); switched_on_at None:
    # never switched back on.
    switched_off_at = peewee.DateTimeField(null=True)
    switched_on_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = ((("tenant_id", "plugin"), True),)
