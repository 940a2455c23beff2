"""/api/v1/configurations: client configurations, their attachments and their history, within grants."""

from urllib.parse import quote

import marshmallow as ma
from flask import Response, current_app, request
from flask.views import MethodView
from marshmallow import fields, validate
from werkzeug.exceptions import RequestEntityTooLarge

from psa_shared.fields import JsonBoolean, QueryBoolean, UtcDateTime
from psa_shared.schemas import Schema
from psa_shared.web import Blueprint, ListArgs, keyset_page, page_schema, principal

from .. import audit
from ..attachments import service as attachments
from ..attachments.models import Attachment
from ..attachments.store import chunks, current_store, max_bytes
from ..configurations import fields as f
from ..configurations import service as configurations
from ..configurations.models import TYPES, Configuration
from ..database import db
from ..history import configuration_history


def _ctx() -> audit.Context:
    return audit.request_context(principal().member_id)


blp = Blueprint("configurations", __name__, url_prefix="/api/v1/configurations", description="Client configurations")
files_blp = Blueprint(
    "attachments", __name__, url_prefix="/api/v1/configurations", description="Files attached to configurations"
)


class ConfigurationSchema(Schema):
    id = fields.UUID(dump_only=True)
    client_id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.OneOf(TYPES))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    serial = f.text(100)
    manufacturer = f.text(100)
    model = f.text(100, attribute="device_model")
    ip_addresses = f.ip_list(attribute="ip_list")
    external_ip = f.ExternalIp(allow_none=True)
    location = f.text(200)
    warranty_end = fields.Date(allow_none=True)
    custom_fields = f.custom_fields(attribute="custom")
    notes = f.text(10_000)
    active = JsonBoolean()
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class ConfigurationQuery(ListArgs):
    client_id = fields.UUID()
    type = fields.String(validate=validate.OneOf(TYPES))
    q = fields.String(validate=validate.Length(min=1, max=200))
    active = QueryBoolean()


class TicketLineSchema(Schema):
    ticket_id = fields.UUID()
    number = fields.Integer(allow_none=True)
    summary = fields.String(allow_none=True)
    opened_at = UtcDateTime()
    closed_at = UtcDateTime(allow_none=True)


class HistorySchema(Schema):
    configuration_id = fields.UUID()
    last_worked_by = fields.Nested(
        ma.Schema.from_dict({"id": fields.UUID(), "name": fields.String(allow_none=True)}, name="Worker"),
        allow_none=True,
    )
    last_worked_at = UtcDateTime(allow_none=True)
    ticket_count = fields.Integer()
    tickets = fields.List(fields.Nested(TicketLineSchema))


class HistoryQuery(ma.Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class DownloadArgs(ma.Schema):
    reason = fields.String(load_default=None, validate=validate.Length(max=500))  # why, for the audit row


class AttachmentSchema(Schema):
    id = fields.UUID(dump_only=True)
    configuration_id = fields.UUID(dump_only=True)
    filename = fields.String(dump_only=True)
    content_type = fields.String(dump_only=True)
    size = fields.Integer(dump_only=True)
    sha256 = fields.String(dump_only=True)
    created_at = UtcDateTime(dump_only=True)


UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        },
    }
}


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact one (RFC 6266 / 5987)."""
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@blp.route("")
class Configurations(MethodView):
    @blp.arguments(ConfigurationQuery, location="query")
    @blp.response(200, page_schema(ConfigurationSchema))
    def get(self, args):
        """List the configurations of granted clients, newest first."""
        principal().require("vault:read")
        query = configurations.visible_configurations(principal())
        for name in ("client_id", "type", "active"):
            if name in args:
                query = query.where(getattr(Configuration, name) == args[name])
        if "q" in args:
            q = args["q"]
            query = query.where(db.contains(Configuration.name, q) | db.contains(Configuration.serial, q))
        return keyset_page(query, Configuration, args)

    @blp.arguments(ConfigurationSchema)
    @blp.response(201, ConfigurationSchema)
    def post(self, data):
        principal().require("vault:write")
        return configurations.create_configuration(principal(), **data)


@blp.route("/<uuid:configuration_id>")
class ConfigurationById(MethodView):
    @blp.response(200, ConfigurationSchema)
    def get(self, configuration_id):
        principal().require("vault:read")
        return configurations.get_configuration(principal(), configuration_id)

    @blp.arguments(ConfigurationSchema(partial=True), required=False)
    @blp.response(200, ConfigurationSchema)
    def patch(self, data, configuration_id):
        principal().require("vault:write")
        return configurations.update_configuration(principal(), configuration_id, **data)

    @blp.response(204)
    def delete(self, configuration_id):
        """Retire: the configuration turns inactive and keeps its history and attachments."""
        principal().require("vault:write")
        configurations.retire_configuration(principal(), configuration_id)


@blp.route("/<uuid:configuration_id>/history")
class ConfigurationHistory(MethodView):
    @blp.arguments(HistoryQuery, location="query")
    @blp.response(200, HistorySchema)
    def get(self, args, configuration_id):
        """Who last logged time on it, and every ticket that concerned it (newest first)."""
        principal().require("vault:read")
        configuration = configurations.get_configuration(principal(), configuration_id)
        return configuration_history(principal(), configuration.id, args["limit"])


@files_blp.route("/<uuid:configuration_id>/attachments")
class Attachments(MethodView):
    @files_blp.arguments(ListArgs, location="query")
    @files_blp.response(200, page_schema(AttachmentSchema))
    def get(self, args, configuration_id):
        principal().require("vault:read")
        return keyset_page(attachments.list_attachments(principal(), configuration_id), Attachment, args)

    @files_blp.doc(**UPLOAD)
    @files_blp.response(201, AttachmentSchema)
    def post(self, configuration_id):
        """Attach a file (multipart field `file`): size-limited, allow-listed types, checksummed."""
        principal().require("vault:write")
        limit = max_bytes(current_app.extensions["psa_settings"])
        request.max_content_length = limit + 64 * 1024  # the file and the multipart around it
        if request.content_length and request.content_length > request.max_content_length:  # refuse before reading
            raise attachments.too_large(limit)
        try:
            upload = request.files.get("file")
        except RequestEntityTooLarge:  # a chunked body, counted as it is read
            raise attachments.too_large(limit) from None
        return attachments.add_attachment(principal(), _ctx(), configuration_id, upload, current_store(), limit)


@files_blp.route("/<uuid:configuration_id>/attachments/<uuid:attachment_id>")
class AttachmentById(MethodView):
    @files_blp.arguments(DownloadArgs, location="query")
    @files_blp.response(200, content_type="application/octet-stream")
    def get(self, args, configuration_id, attachment_id):
        """Download the file under its original name, after its checksum is verified: audited and
        rate-limited with the member's reveals."""
        ctx = _ctx()
        attachment, stream = attachments.download(
            principal(), ctx, configuration_id, attachment_id, current_store(), args["reason"]
        )
        response = Response(chunks(stream), mimetype=attachment.content_type, direct_passthrough=True)
        response.headers["Content-Disposition"] = content_disposition(attachment.filename)
        response.headers["Content-Length"] = str(attachment.size)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @files_blp.response(204)
    def delete(self, configuration_id, attachment_id):
        principal().require("vault:write")
        attachments.delete_attachment(principal(), _ctx(), configuration_id, attachment_id, current_store())
