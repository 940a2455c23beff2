"""Marshmallow fields and validators every service's schemas share."""

import datetime as dt

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
