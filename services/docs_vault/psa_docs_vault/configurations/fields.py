"""Marshmallow fields for what a configuration records: IP addresses and bounded custom fields."""

import ipaddress

from marshmallow import ValidationError, fields, validate

MAX_CUSTOM_FIELDS = 30
MAX_CUSTOM_KEY = 50
MAX_CUSTOM_VALUE = 500
# Addresses only a LAN (or the carrier's NAT) uses: never what the internet sees of a client.
INTERNAL_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
    )
)


def _address(value) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if not isinstance(value, str) or len(value) > 45:
        raise ValidationError("not an IP address")
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        raise ValidationError(f"not an IP address: {value[:45]!r}") from None


def _as_routed(address: ipaddress.IPv4Address | ipaddress.IPv6Address):
    """The IPv4 address an IPv4-mapped one (`::ffff:127.0.0.1`) stands for, checked as such: until
    2026-11-28 a mapped loopback address passed as a device's address."""
    return getattr(address, "ipv4_mapped", None) or address


class LanIp(fields.String):
    """An address a device answers on inside the client's network (never loopback, multicast or 0.0.0.0)."""

    def _deserialize(self, value, attr, data, **kwargs):
        address = _address(value)
        routed = _as_routed(address)
        if routed.is_loopback or routed.is_multicast or routed.is_unspecified:
            raise ValidationError(f"not a device address: {address}")
        return address.compressed


class ExternalIp(fields.String):
    """The client's public address; a LAN address here is a typo."""

    def _deserialize(self, value, attr, data, **kwargs):
        address = _address(value)  # IPv4-mapped ones (::ffff:0:0/96) are reserved: refused
        special = address.is_loopback or address.is_multicast or address.is_unspecified or address.is_reserved
        if special or any(address in network for network in INTERNAL_NETWORKS):
            raise ValidationError(f"not a public address: {address}")
        return address.compressed


def text(max_length: int, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(max=max_length), allow_none=True, **kwargs)


def ip_list(**kwargs) -> fields.List:
    return fields.List(LanIp(), validate=[validate.Length(max=32), _unique], **kwargs)


def _unique(values: list) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("an address is listed twice")


class EntryErrorsDict(fields.Dict):
    """A Dict whose errors name the entry at fault: marshmallow files them under the entry's `key`
    or `value` (`{"rack": {"value": [...]}}`), which read as fields `custom_fields.rack.value` and,
    for an empty key, `custom_fields..key` until 2026-11-28."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError as error:
            if not isinstance(error.messages, dict):  # the object itself: not a mapping
                raise
            entries = {key: [*parts.get("key", []), *parts.get("value", [])] for key, parts in error.messages.items()}
            raise ValidationError(entries) from None


def custom_fields(**kwargs) -> fields.Dict:
    """Free labels an MSP adds (`{"rack": "B2"}`): a few short strings, never a place for documents."""
    return EntryErrorsDict(
        keys=fields.String(
            validate=validate.Length(min=1, max=MAX_CUSTOM_KEY, error="a key must be {min} to {max} characters")
        ),
        values=fields.String(validate=validate.Length(max=MAX_CUSTOM_VALUE)),
        validate=validate.Length(max=MAX_CUSTOM_FIELDS),
        **kwargs,
    )
