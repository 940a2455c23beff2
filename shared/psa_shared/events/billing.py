"""Billing events (the billing service is to come; the contracts that cross services are fixed now)."""

import marshmallow as ma
from marshmallow import fields, validate

from . import DecimalText, register


class InvoicePostedPayload(ma.Schema):
    invoice_id = fields.UUID(required=True)
    number = fields.String(required=True)
    client_id = fields.UUID(required=True)
    time_entry_ids = fields.List(fields.UUID(), required=True)
    total = DecimalText(required=True)
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$", error="an ISO 4217 code: USD"))


register("invoice.posted", "billing", 1, InvoicePostedPayload, "An invoice was posted; its time entries are billed.")
