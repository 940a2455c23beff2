"""Marshmallow fields and validators every service's schemas share."""

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from marshmallow import ValidationError, fields

from .events import utc_iso


class UtcDateTime(fields.DateTime):
    """ISO 8601 in UTC with `Z`; naive datetimes (as stored) are UTC, input is converted to naive UTC."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else utc_iso(value)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is None:
            raise self.make_error("invalid", input=value, obj_type="datetime with a time zone")
        try:
            return moment.astimezone(dt.UTC).replace(tzinfo=None)
        except OverflowError:  # 0001-01-01T00:00+01:00 is in the year 0 in UTC
            raise self.make_error("invalid", input=value, obj_type="datetime within years 1-9999 in UTC") from None


class TrimmedString(fields.String):
    """Text read without leading or trailing whitespace: "Service Desk " beside "Service Desk" is no
    second name but the same one typed with a space (it got past the unique-name rules until 2026-11-27)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class JsonBoolean(fields.Boolean):
    """JSON `true`/`false` only, as the OpenAPI document promises; marshmallow's Boolean would also
    take 0, 1, "yes" or "off" in a body and quietly flip a flag. (Query strings: `QueryBoolean`.)"""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class QueryBoolean(fields.Boolean):
    """A flag in a query string: `true`/`false` as documented (or `1`/`0`). marshmallow's Boolean
    also reads `yes`, `on`, `t` or `Y` (until 2026-11-27 `unassigned=yes` filtered), so a guess
    at the spelling worked here and nowhere else."""

    truthy = frozenset({"true", "1"})
    falsy = frozenset({"false", "0"})


def not_blank(value: str) -> None:
    """Refuses text of only spaces (or none): a name or summary like that says nothing."""
    if not value.strip():
        raise ValidationError("must not be blank")


# `not_blank` as the OpenAPI document states it (field metadata): apispec cannot read a function, and
# without these the document promised any string up to its maxLength, spaces alone included
NOT_BLANK = {"minLength": 1, "pattern": r"\S"}


ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


class MissingSecret(LookupError):
    """An `EnvSecret`'s variable is not set where the settings are read: names it, never a value."""

    def __init__(self, name: str):
        super().__init__(f"environment variable {name} is not set (the settings name it as holding a secret)")
        self.name = name


class StaleSettings(ValueError):
    """A tenant's stored settings for a plugin no longer fit its schema (a new version dropped a field
    or made one required): names the plugin and the fields, never a value. The tenant's admin saves
    them again to fix it."""

    def __init__(self, plugin: str, fields: list[str]):
        super().__init__(f"tenant settings for plugin {plugin} no longer fit its schema: {', '.join(fields)}")
        self.plugin, self.fields = plugin, fields


@dataclass(frozen=True)
class SecretRef:
    """A secret as the name of the environment variable holding it; read only by `resolve()`."""

    env: str

    def resolve(self, environ: Mapping[str, str] | None = None) -> str:
        try:
            return (os.environ if environ is None else environ)[self.env]
        except KeyError:
            raise MissingSecret(self.env) from None


class EnvSecret(fields.Field):
    """A secret given, and stored, as the name of an environment variable holding it:
    `{"env": "ACME_RMM_SECRET_DENTAL"}` on the wire, a `SecretRef` loaded. The secret itself is
    refused: it would be stored in plain text and shown to whoever reads the settings."""

    default_error_messages = {  # braces doubled: marshmallow formats these
        "literal": 'give the name of an environment variable holding it: {{"env": "NAME"}}',
        "invalid": 'expected the name of an environment variable holding it: {{"env": "NAME"}}',
        "name": "env: letters, digits and underscores, not starting with a digit, at most 100 characters",
    }

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else {"env": value.env}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            raise self.make_error("literal")
        if not isinstance(value, dict) or value.keys() != {"env"}:
            raise self.make_error("invalid")
        if not isinstance(value["env"], str) or not ENV_NAME.fullmatch(value["env"]):
            raise self.make_error("name")
        return SecretRef(value["env"])


def resolve_secrets(value, environ: Mapping[str, str] | None = None):
    """`value` (loaded settings: dicts, lists, values) with every `SecretRef` read from the environment.

    Raises:
        MissingSecret: a variable is not set; the error names it.
    """
    if isinstance(value, SecretRef):
        return value.resolve(environ)
    if isinstance(value, dict):
        return {key: resolve_secrets(item, environ) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [resolve_secrets(item, environ) for item in value]
    return value


def secret_refs(value, path: str = "") -> list[tuple[str, SecretRef]]:
    """Every `SecretRef` in loaded settings, with where it is (keys and list positions joined by dots)."""
    if isinstance(value, SecretRef):
        return [(path, value)]
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list | tuple) else ()
    return [found for key, item in items for found in secret_refs(item, f"{path}.{key}" if path else str(key))]
