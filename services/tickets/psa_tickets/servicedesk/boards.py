"""Boards, their statuses and SLA targets, and the tenant's business calendar."""

from __future__ import annotations

import datetime as dt

from psa_shared.errors import Conflict, NotFound, field_error
from psa_shared.tenancy import current_tenant

from ..database import db
from ..directory.models import Tenant, TenantSettings
from . import sla
from .models import Board, SlaTarget, Status

DEFAULT_BOARD = "Service Desk"
DEFAULT_STATUSES = (
    ("New", "open"),
    ("In Progress", "open"),
    ("Scheduled", "open"),
    ("Waiting on Client", "waiting"),
    ("Resolved", "closed"),
    ("Closed", "closed"),
)
# Business minutes: respond within, resolve within.
DEFAULT_TARGETS = {"P1": (60, 240), "P2": (120, 480), "P3": (240, 1440), "P4": (480, 2880), "P5": (960, 4800)}


def seed_defaults() -> Board:
    """A new tenant's settings row and its default board (call inside the tenant's scope)."""
    with db.proxy.atomic():
        TenantSettings.create()
        board = Board.create(name=DEFAULT_BOARD, is_default=True)
        for position, (name, kind) in enumerate(DEFAULT_STATUSES):
            Status.create(board=board.id, name=name, kind=kind, position=position, is_default=position == 0)
        set_targets(
            board,
            [{"priority": p, "respond_minutes": r, "resolve_minutes": s} for p, (r, s) in DEFAULT_TARGETS.items()],
        )
    return board


def calendar() -> sla.BusinessCalendar:
    """The tenant's business hours, in its time zone."""
    tenant = Tenant.get_by_id(current_tenant())
    settings = TenantSettings.get_or_none() or TenantSettings()
    holidays = frozenset(dt.date.fromisoformat(d.strip()) for d in settings.holidays.split(",") if d.strip())
    return sla.BusinessCalendar(
        time_zone=tenant.time_zone,
        start_minute=settings.workday_start_minute,
        end_minute=settings.workday_end_minute,
        workdays=frozenset(int(d) for d in settings.workdays),
        holidays=holidays,
    )


def get_board(board_id, field: str | None = None) -> Board:
    board = Board.get_or_none(Board.id == board_id) if board_id else None
    if board is None:
        if field:
            raise field_error(field, "board not found")
        raise NotFound("board not found")
    return board


def default_board() -> Board:
    board = Board.get_or_none(Board.is_default == True)  # noqa: E712  (peewee expression)
    if board is None:
        raise field_error("board_id", "the tenant has no default board; name one")
    return board


def statuses(board: Board) -> list[Status]:
    return list(Status.select().where(Status.board == board.id).order_by(Status.position, Status.name))


def status_named(board: Board, name: str, field: str = "status") -> Status:
    status = Status.get_or_none((Status.board == board.id) & (Status.name == name))
    if status is None:
        raise field_error(field, f"no status {name!r} on board {board.name!r}")
    return status


def default_status(board: Board) -> Status:
    found = [s for s in statuses(board) if s.kind == "open"]
    marked = [s for s in found if s.is_default]
    if not (marked or found):
        raise field_error("board_id", "the board has no open status")
    return (marked or found)[0]


def closing_status(board: Board) -> Status:
    """Where auto-close puts a ticket: the board's last closed status ("Closed" by default)."""
    closed = [s for s in statuses(board) if s.kind == "closed"]
    if not closed:
        raise Conflict("the board has no closed status")
    return closed[-1]


def targets(board: Board) -> dict[str, SlaTarget]:
    return {t.priority: t for t in SlaTarget.select().where(SlaTarget.board == board.id)}


def set_targets(board: Board, rows: list[dict]) -> None:
    """Replace the board's SLA targets with `rows` ({priority, respond_minutes, resolve_minutes})."""
    seen = [r["priority"] for r in rows]
    if len(seen) != len(set(seen)):
        raise field_error("sla_targets", "one target per priority")
    SlaTarget.delete().where(SlaTarget.board == board.id).execute()
    for row in rows:
        SlaTarget.create(board=board.id, **row)


def _check_name_free(name: str, board_id=None) -> None:
    query = Board.select().where(Board.name == name)
    if board_id is not None:
        query = query.where(Board.id != board_id)
    if query.exists():
        raise field_error("name", "a board with this name already exists")


def create_board(name: str, sla_targets: list[dict] | None = None, **policy) -> Board:
    """A board with the default statuses, so it is usable at once."""
    with db.proxy.atomic():
        _check_name_free(name)
        board = Board.create(name=name, **policy)
        for position, (status_name, kind) in enumerate(DEFAULT_STATUSES):
            Status.create(board=board.id, name=status_name, kind=kind, position=position, is_default=position == 0)
        set_targets(board, sla_targets or [])
    return board


def update_board(board_id, sla_targets: list[dict] | None = None, **changes) -> Board:
    with db.proxy.atomic():
        board = get_board(board_id)
        if "name" in changes:
            _check_name_free(changes["name"], board.id)
        if changes.get("is_default"):
            Board.update(is_default=False).where(Board.id != board.id).execute()
        for name, value in changes.items():
            setattr(board, name, value)
        board.save()
        if sla_targets is not None:
            set_targets(board, sla_targets)
    return board


def create_status(board_id, name: str, kind: str, position: int | None = None, is_default: bool = False) -> Status:
    with db.proxy.atomic():
        board = get_board(board_id)
        if Status.select().where((Status.board == board.id) & (Status.name == name)).exists():
            raise field_error("name", "the board already has a status with this name")
        if is_default:
            if kind != "open":
                raise field_error("is_default", "only an open status can be the default")
            Status.update(is_default=False).where(Status.board == board.id).execute()
        if position is None:
            position = len(statuses(board))
        return Status.create(board=board.id, name=name, kind=kind, position=position, is_default=is_default)
