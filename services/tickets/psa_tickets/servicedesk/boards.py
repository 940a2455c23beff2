"""Boards, their statuses and SLA targets, and the tenant's business calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from psa_shared.errors import Conflict, NotFound, field_error
from psa_shared.tenancy import current_tenant

from ..database import db, emit
from ..directory.models import Tenant, TenantSettings, directory_changed
from ..directory.snapshot import snapshot
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
        directory_changed()
    return board


@dataclass
class Boards:
    """A tenant's boards, statuses, SLA targets and business calendar, as one generation has them."""

    boards: dict = field(default_factory=dict)  # id -> Board
    statuses: dict = field(default_factory=dict)  # id -> Status
    by_board: dict = field(default_factory=dict)  # board id -> [Status] in board order
    targets: dict = field(default_factory=dict)  # board id -> {priority: SlaTarget}
    calendar: sla.BusinessCalendar = field(default_factory=sla.BusinessCalendar)


def _load() -> Boards:
    loaded = Boards(calendar=_read_calendar())
    for board in Board.select():
        loaded.boards[board.id] = board
        loaded.by_board[board.id], loaded.targets[board.id] = [], {}
    for status in Status.select().order_by(Status.position, Status.name):
        loaded.statuses[status.id] = status
        loaded.by_board[status.board_id].append(status)
    for target in SlaTarget.select():
        loaded.targets[target.board_id][target.priority] = target
    return loaded


def current() -> Boards:
    return snapshot().get("boards", _load)


def _read_calendar() -> sla.BusinessCalendar:
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


def calendar() -> sla.BusinessCalendar:
    """The tenant's business hours, in its time zone."""
    return current().calendar


def set_calendar(time_zone: str, workday_start: int, workday_end: int, workdays: list, holidays: list) -> None:
    """Replace the tenant's business hours (minutes after local midnight, ISO weekdays, dates)."""
    values = {
        "workday_start_minute": workday_start,
        "workday_end_minute": workday_end,
        "workdays": "".join(str(d) for d in sorted(workdays)),
        "holidays": ",".join(d.isoformat() for d in sorted(set(holidays))),
    }
    with db.proxy.atomic():
        tenant = db.locked(Tenant.select().where(Tenant.id == current_tenant())).get()
        if tenant.time_zone != time_zone:
            # billing cuts its months in the tenant's zone and never calls back: until 2026-11-28
            # only `tenant.created` ever named it
            Tenant.update(time_zone=time_zone).where(Tenant.id == tenant.id).execute()
            emit("tenant.updated", {"id": tenant.id, "name": tenant.name, "time_zone": time_zone})
        if not TenantSettings.update(**values).execute():
            TenantSettings.create(**values)
        directory_changed()


def get_board(board_id, field: str | None = None) -> Board:
    """A board to read (shared between requests: never change it; `board_for_update` is for that)."""
    board = current().boards.get(board_id)
    if board is None:
        if field:
            raise field_error(field, "board not found")
        raise NotFound("board not found")
    return board


def board_for_update(board_id) -> Board:
    """The board, locked for the caller's transaction: two admins' changes to one board take
    turns (two SLA target lists at once would otherwise leave both lists' rows)."""
    board = db.locked(Board.select().where(Board.id == board_id)).first()
    if board is None:
        raise NotFound("board not found")
    return board


def default_board() -> Board:
    board = next((b for b in current().boards.values() if b.is_default), None)
    if board is None:
        raise field_error("board_id", "the tenant has no default board; name one")
    return board


def statuses(board_id) -> list[Status]:
    return current().by_board.get(board_id, [])


def status_by_id(status_id) -> Status:
    return current().statuses.get(status_id) or Status.get_by_id(status_id)


def status_named(board_id, name: str, field: str = "status") -> Status:
    """The board's status called `name`, whatever its case: names on a board are unique so, and a
    script sending "waiting on client" means "Waiting on Client" (refused until 2026-11-27). An
    exact match first, for two statuses named alike before that rule."""
    found = statuses(board_id)
    status = next((s for s in found if s.name == name), None)
    if status is None:
        alike = [s for s in found if s.name.casefold() == name.casefold()]
        status = alike[0] if len(alike) == 1 else None
    if status is None:
        names = ", ".join(repr(s.name) for s in statuses(board_id))
        raise field_error(field, f"no status {name!r} on board {get_board(board_id).name!r} (its statuses: {names})")
    return status


def default_status(board_id) -> Status:
    found = [s for s in statuses(board_id) if s.kind == "open"]
    marked = [s for s in found if s.is_default]
    if not (marked or found):
        raise field_error("board_id", "the board has no open status")
    return (marked or found)[0]


def closing_status(board_id) -> Status:
    """Where auto-close puts a ticket: the board's last closed status ("Closed" by default)."""
    closed = [s for s in statuses(board_id) if s.kind == "closed"]
    if not closed:
        raise Conflict("the board has no closed status")
    return closed[-1]


def targets(board_id) -> dict[str, SlaTarget]:
    return current().targets.get(board_id, {})


def set_targets(board: Board, rows: list[dict]) -> None:
    """Replace the board's SLA targets with `rows` ({priority, respond_minutes, resolve_minutes})."""
    seen = [r["priority"] for r in rows]
    if len(seen) != len(set(seen)):
        raise field_error("sla_targets", "one target per priority")
    SlaTarget.delete().where(SlaTarget.board == board.id).execute()
    for row in rows:
        SlaTarget.create(board=board.id, **row)


def _same_name(names, name: str) -> bool:
    """Whether `name` is among `names` whatever the case. Compared here with casefold(), not in SQL:
    SQLite's LOWER() folds ASCII only ("ÉQUIPE" beside "équipe"), and neither LOWER folds ß to ss."""
    folded = name.casefold()
    return any(other.casefold() == folded for other in names)


def _check_name_free(name: str, board_id=None) -> None:
    """Board names are unique whatever their case: "service desk" beside "Service Desk" reads as one."""
    query = Board.select(Board.name)
    if board_id is not None:
        query = query.where(Board.id != board_id)
    if _same_name((board.name for board in query), name):  # a tenant has a handful of boards
        raise field_error("name", "a board with this name already exists")


def create_board(name: str, sla_targets: list[dict] | None = None, **policy) -> Board:
    """A board with the default statuses, so it is usable at once."""
    with db.proxy.atomic():
        _check_name_free(name)
        if policy.get("is_default"):
            # one default board: where a ticket names none it goes there
            Board.update(is_default=False).where(Board.is_default == True).execute()  # noqa: E712
        board = Board.create(name=name, **policy)
        for position, (status_name, kind) in enumerate(DEFAULT_STATUSES):
            Status.create(board=board.id, name=status_name, kind=kind, position=position, is_default=position == 0)
        set_targets(board, sla_targets or [])
        directory_changed()
    return board


def update_board(board_id, sla_targets: list[dict] | None = None, **changes) -> Board:
    with db.proxy.atomic():
        board = board_for_update(board_id)
        if "name" in changes:
            _check_name_free(changes["name"], board.id)
        if board.is_default and changes.get("is_default") is False:
            # tickets and events naming no board go to the default one: there must always be one
            raise field_error("is_default", "the tenant needs a default board; make another board the default instead")
        if changes.get("is_default"):
            Board.update(is_default=False).where(Board.id != board.id).execute()
        for name, value in changes.items():
            setattr(board, name, value)
        board.save()
        if sla_targets is not None:
            set_targets(board, sla_targets)
        directory_changed()
    return board


def create_status(board_id, name: str, kind: str, position: int | None = None, is_default: bool = False) -> Status:
    with db.proxy.atomic():
        board = board_for_update(board_id)
        # unique whatever the case: a "closed" of kind open beside "Closed" would keep tickets open
        if _same_name((s.name for s in Status.select(Status.name).where(Status.board == board.id)), name):
            raise field_error("name", "the board already has a status with this name")
        if is_default:
            if kind != "open":
                raise field_error("is_default", "only an open status can be the default")
            Status.update(is_default=False).where(Status.board == board.id).execute()
        if position is None:
            position = Status.select().where(Status.board == board.id).count()
        status = Status.create(board=board.id, name=name, kind=kind, position=position, is_default=is_default)
        directory_changed()
    return status
