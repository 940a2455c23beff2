"""/api/v1/boards: service boards, their statuses, SLA targets and auto-close policy."""

import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields, validate

from psa_shared.fields import JsonBoolean, UtcDateTime, not_blank
from psa_shared.schemas import Schema
from psa_shared.web import Blueprint, page_schema, principal, whole_list

from ..servicedesk import boards
from ..servicedesk.models import PRIORITIES, STATUS_KINDS, Board
from . import fields as f

blp = Blueprint("boards", __name__, url_prefix="/api/v1/boards", description="Service boards and their statuses")


class SlaTargetSchema(Schema):
    priority = fields.String(required=True, validate=validate.OneOf(PRIORITIES))
    respond_minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=525_600))
    resolve_minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=525_600))

    @ma.validates_schema
    def _respond_by_resolution(self, data, **kwargs):
        # resolving within 1 h while responding within 8 h: the two columns were swapped
        if {"respond_minutes", "resolve_minutes"} <= data.keys() and data["respond_minutes"] > data["resolve_minutes"]:
            raise ma.ValidationError("must not be less than respond_minutes", "resolve_minutes")


def _empty_or_not_blank(value: str) -> None:
    if value:
        not_blank(value)


class BoardSchema(Schema):
    id = fields.UUID(dump_only=True)
    name = f.name(max_length=100)
    is_default = JsonBoolean()
    autoclose_attempts = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=100))
    autoclose_business_days = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=365))
    # null or "" is the default note (which says why); spaces alone would post a blank note
    autoclose_note = fields.String(
        allow_none=True,
        validate=[_empty_or_not_blank, validate.Length(max=2000)],
        metadata={"pattern": r"^$|\S"},  # `_empty_or_not_blank` for the OpenAPI document
    )
    sla_targets = fields.List(fields.Nested(SlaTargetSchema))
    created_at = UtcDateTime(dump_only=True)


BoardList = page_schema(BoardSchema, "BoardList")


class StatusSchema(Schema):
    id = fields.UUID(dump_only=True)
    board_id = fields.UUID(dump_only=True)
    name = f.name(max_length=60)
    kind = fields.String(required=True, validate=validate.OneOf(STATUS_KINDS))
    position = fields.Integer(strict=True, validate=validate.Range(min=0, max=1000))
    is_default = JsonBoolean()


StatusList = page_schema(StatusSchema, "StatusList")


def board_view(board: Board) -> dict:
    targets = sorted(boards.targets(board.id).values(), key=lambda t: t.priority)
    return {
        **{name: getattr(board, name) for name in ("id", "name", "is_default", "created_at")},
        **{name: getattr(board, name) for name in ("autoclose_attempts", "autoclose_business_days", "autoclose_note")},
        "sla_targets": targets,
    }


@blp.route("")
class Boards(MethodView):
    @blp.response(200, BoardList)
    def get(self):
        """Every board of the tenant (a handful), by name."""
        principal().require("ticket:read")
        return whole_list(board_view(b) for b in Board.select().order_by(Board.name))

    @blp.arguments(BoardSchema)
    @blp.response(201, BoardSchema)
    def post(self, data):
        """A new board with the default statuses."""
        principal().require("settings:write")
        return board_view(boards.create_board(**data))


@blp.route("/<uuid:board_id>")
class BoardById(MethodView):
    @blp.response(200, BoardSchema)
    def get(self, board_id):
        principal().require("ticket:read")
        return board_view(boards.get_board(board_id))

    @blp.arguments(BoardSchema(partial=True), required=False)
    @blp.response(200, BoardSchema)
    def patch(self, data, board_id):
        """Rename, make default, set the auto-close policy or replace the SLA targets."""
        principal().require("settings:write")
        return board_view(boards.update_board(board_id, **data))


@blp.route("/<uuid:board_id>/statuses")
class Statuses(MethodView):
    @blp.response(200, StatusList)
    def get(self, board_id):
        principal().require("ticket:read")
        return whole_list(boards.statuses(boards.get_board(board_id).id))

    @blp.arguments(StatusSchema)
    @blp.response(201, StatusSchema)
    def post(self, data, board_id):
        principal().require("settings:write")
        return boards.create_status(board_id, **data)
