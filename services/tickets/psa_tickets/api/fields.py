"""Field helpers shared by the tickets service's schemas."""

from marshmallow import fields, validate

from psa_shared.fields import NOT_BLANK, TrimmedString, UtcDateTime, not_blank


def name(required: bool = True, max_length: int = 200, trim: bool = True, **kwargs) -> fields.String:
    """Human-readable text the thing is known by (a name, a summary): blank is refused, and padding
    spaces dropped (`trim=False` keeps them, for free text such as a note)."""
    kind = TrimmedString if trim else fields.String
    return kind(required=required, validate=[not_blank, validate.Length(max=max_length)], metadata=NOT_BLANK, **kwargs)


def text(max_length: int, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(max=max_length), allow_none=True, **kwargs)


def email(required: bool = False, **kwargs) -> fields.Email:
    return fields.Email(required=required, validate=validate.Length(max=254), **kwargs)


def read_only_times() -> dict:
    return {"created_at": UtcDateTime(dump_only=True), "updated_at": UtcDateTime(dump_only=True)}
