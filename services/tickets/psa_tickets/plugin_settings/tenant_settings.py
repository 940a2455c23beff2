"""A tenant's switch and settings for each plugin: read, replaced, and resolved for the plugin.

Without a row the plugin is on (an installed, allow-listed plugin serves every tenant) with its
schema's defaults. Settings are stored as the plugin's schema dumps them, each secret as the name
of the environment variable holding it (`psa_shared.fields.EnvSecret`), resolved only by `resolved`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import json
import re
import uuid

import marshmallow as ma
import peewee
import pluggy
from flask import current_app, has_app_context

from psa_shared import plugins as host
from psa_shared import tenancy
from psa_shared.config import Settings
from psa_shared.errors import InvalidInput, NotFound, flatten_errors
from psa_shared.events import utc_iso
from psa_shared.fields import StaleSettings, resolve_secrets, secret_refs
from psa_shared.outbox import utcnow

from ..database import db, outbox
from .models import PluginSettings


def plugins() -> pluggy.PluginManager:
    """This process's plugins: the app's in a request, else built from the environment once
    (again when `register_plugin` registers another, as tests do)."""
    if has_app_context() and "psa_plugins" in current_app.extensions:
        return current_app.extensions["psa_plugins"]
    settings = Settings.from_env()
    return _built(settings.plugins, settings.disabled_plugins, host.registered())


@functools.lru_cache(maxsize=4)
def _built(allowed: tuple | None, blocked: tuple, registered: tuple) -> pluggy.PluginManager:
    return host.plugin_manager(Settings.from_env())


def schema_of(pm: pluggy.PluginManager, plugin: str) -> type[ma.Schema] | None:
    """The plugin's settings schema (None: it takes none); 404 for a plugin not loaded here."""
    try:
        return host.tenant_settings_schema(pm, plugin)
    except KeyError:
        raise NotFound(f"no plugin named {plugin!r} runs here") from None


def enabled(tenant_id: uuid.UUID, plugin: str, at: dt.datetime | None = None) -> bool:
    """Whether tenant `tenant_id` has plugin `plugin` on (no row: on) and, given moment `at` (naive
    UTC: an event's), had it on then too. Needs a connection; one query, on every event delivery."""
    switch = (PluginSettings.enabled, PluginSettings.switched_off_at, PluginSettings.switched_on_at)
    with tenancy.tenant_scope(tenant_id):
        row = PluginSettings.select(*switch).where(PluginSettings.plugin == plugin).first()
    if row is None:
        return True
    return row.enabled and (at is None or not _while_off(row, at))


def _while_off(row: PluginSettings, at: dt.datetime) -> bool:
    """Whether `at` fell in the tenant's last off period, before its switch-on; a switch-off made
    before 2026-11-28 was not kept, and then the period is taken to have no start."""
    if row.switched_on_at is None or at >= row.switched_on_at:
        return False
    return row.switched_off_at is None or at >= row.switched_off_at


def show(pm: pluggy.PluginManager, plugin: str) -> dict:
    """The current tenant's switch and settings for `plugin`, as stored (secrets as references)."""
    schema = schema_of(pm, plugin)
    row = PluginSettings.select().where(PluginSettings.plugin == plugin).first()
    settings = json.loads(row.settings) if row else _dumped(schema, _defaults(schema))
    stale = _unfit(schema, settings, partial=not row.enabled) if row and schema else []
    return {"name": plugin, "enabled": row is None or row.enabled, "settings": settings,
            "settings_schema": schema is not None, "stale_fields": stale, "updated_at": row and row.updated_at,
            "updated_by_id": row and row.updated_by_id}  # fmt: skip


def save(pm: pluggy.PluginManager, plugin: str, *, enabled: bool, settings: dict, by: uuid.UUID) -> dict:
    """Replace the current tenant's switch and settings for `plugin`, validated by its schema
    (switching off, a required field may be left out: a tenant need not configure what it turns off),
    as member `by`; `plugin.settings_changed` is emitted with them.

    Raises:
        InvalidInput: a field refused, named `settings.<field>`; nothing is stored.
    """
    schema = schema_of(pm, plugin)
    dumped = _dumped(schema, _validated(schema, plugin, settings, partial=not enabled))
    stored, now = json.dumps(dumped, default=str), utcnow()
    values = {PluginSettings.enabled: enabled, PluginSettings.settings: stored, PluginSettings.updated_at: now,
              PluginSettings.updated_by_id: by}  # fmt: skip
    inserted = {**values, PluginSettings.switched_off_at: None if enabled else now}
    with db.proxy.atomic():  # one statement: two first saves at once cannot both insert
        PluginSettings.insert(plugin=plugin, **{f.name: v for f, v in inserted.items()}).on_conflict(
            conflict_target=[PluginSettings.tenant_id, PluginSettings.plugin], update=values | _switched(enabled, now)
        ).execute()
        payload = {"plugin": plugin, "enabled": enabled, "settings": json.loads(stored), "updated_at": utc_iso(now)}
        # occurring at the very moment of the switch: the plugin hears its switch-on, not its switch-off
        event = outbox.prepare("plugin.settings_changed", payload)
        outbox.write(dataclasses.replace(event, occurred_at=payload["updated_at"]))
    return show(pm, plugin)


def _switched(enabled: bool, now: dt.datetime) -> dict:
    """The switch moment a save updates: `now` where it turns the stored switch the other way, else
    as stored (read from the row in the upsert itself, so two saves at once record one turn)."""
    if enabled:
        return {PluginSettings.switched_on_at: _unless_on(PluginSettings.switched_on_at, now)}
    return {PluginSettings.switched_off_at: _unless_on(now, PluginSettings.switched_off_at)}


def _unless_on(if_on, if_off) -> peewee.Case:
    return peewee.Case(None, [(PluginSettings.enabled, if_on)], if_off)


def resolved(pm: pluggy.PluginManager, tenant_id: uuid.UUID | str, plugin: str) -> dict | None:
    """Tenant `tenant_id`'s settings for `plugin`, each secret read from the environment now;
    None if the tenant switched it off. Raises `psa_shared.fields.MissingSecret` naming an unset variable."""
    schema = schema_of(pm, plugin)
    connected = db.proxy.connection_context() if db.proxy.is_closed() else contextlib.nullcontext()
    with connected, tenancy.tenant_scope(tenant_id):
        row = PluginSettings.select().where(PluginSettings.plugin == plugin).first()
    if row is not None and not row.enabled:
        return None
    if row is None or schema is None:
        return resolve_secrets(_defaults(schema))
    try:
        return resolve_secrets(schema().load(json.loads(row.settings)))
    except ma.ValidationError as error:  # a bare ValidationError until 2026-11-28, its values in it
        raise StaleSettings(plugin, sorted(flatten_errors(error.messages))) from None


def _unfit(schema: type[ma.Schema], stored: dict, *, partial: bool) -> list[str]:
    """The fields of stored settings the plugin's schema (a newer version's) no longer takes, by name."""
    try:
        schema().load(stored, partial=partial)
    except ma.ValidationError as error:
        return sorted(flatten_errors(error.messages))
    return []


def _defaults(schema: type[ma.Schema] | None) -> dict:
    """What a tenant that set nothing has: each field's `load_default`; a required field is absent
    (a load of `{}` would refuse it, and one with `partial=True` leaves the defaults out too)."""
    found = {}
    for name, field in schema().load_fields.items() if schema else ():
        if field.load_default is not ma.missing:
            default = field.load_default
            found[field.attribute or name] = default() if callable(default) else default
    return found


def _dumped(schema: type[ma.Schema] | None, settings: dict) -> dict:
    return settings if schema is None else schema().dump(settings)


def _validated(schema: type[ma.Schema] | None, plugin: str, settings: dict, *, partial: bool) -> dict:
    if schema is None:
        if settings:
            raise InvalidInput(errors={"settings": ["this plugin takes no settings"]})
        return {}
    try:
        loaded = schema().load(settings, partial=partial)
        loaded = {**_defaults(schema), **loaded} if partial else loaded
    except ma.ValidationError as error:
        raise InvalidInput(errors=flatten_errors(error.messages, "settings")) from None
    prefix = env_prefix(plugin)
    foreign = {f"settings.{where}": [f"env: name a variable starting with {prefix} and more after it"]
               for where, ref in secret_refs(loaded) if not _within(ref.env, prefix)}  # fmt: skip
    if foreign:
        raise InvalidInput(errors=foreign)
    return loaded


def env_prefix(plugin: str) -> str:
    """The start of every variable a tenant may name for `plugin`'s secrets (`ACME_RMM_` for
    `acme_rmm`): a tenant admin must not have a plugin send the service's own secrets
    (`PSA_VAULT_MASTER_KEYS`, a database URL) to an address the admin chose."""
    return re.sub(r"\W", "_", plugin).upper() + "_"


def _within(name: str, prefix: str) -> bool:
    """Whether variable `name` is one of the plugin's: its prefix and at least one character more
    (until 2026-11-28 the prefix alone, `ACME_RMM_`, was taken)."""
    return name.startswith(prefix) and len(name) > len(prefix)
