"""Service requests: open, read within grants, change, and the trail rows every change leaves."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from peewee import fn

from psa_shared.auth import MemberView, Principal
from psa_shared.errors import NotFound, field_error
from psa_shared.statements import Insert, Slot, Statement

from ..database import db, emit, outbox
from ..directory.clients import check_client
from ..directory.models import Contact, Member, next_number
from ..directory.tokens import known_member
from . import boards, clock, sla
from .events import ticket_payload, time_entry_payload
from .models import Board, ConfigurationRef, Status, Ticket, TicketChange, TicketConfiguration, TimeEntry

TRACKED = ("summary", "description", "priority", "assignee_id", "estimate_minutes", "contact_id")


def _ticket_with_configurations():
    """The ticket and, in the same query, its configuration ids joined by commas (a time entry's
    event and the ticket's own response carry them; a second query would be a round trip more)."""
    column = TicketConfiguration.configuration_id
    joined = fn.string_agg(column.cast("text"), ",") if db.is_postgres else fn.group_concat(column, ",")
    configurations = TicketConfiguration.select(joined).where(TicketConfiguration.ticket == Ticket.id)
    return Ticket.select(*Ticket._meta.sorted_fields, configurations.alias("configuration_list"))


_TICKET = Statement(lambda: _ticket_with_configurations().where(Ticket.id == Slot("id")))
_TICKET_FOR_UPDATE = Statement(lambda: db.locked(_ticket_with_configurations().where(Ticket.id == Slot("id"))))


def get_ticket(principal: Principal, ticket_id, for_update: bool = False) -> Ticket:
    """A ticket of a client the caller is granted; any other reads as not found."""
    # spent minutes and status move under concurrent writers: lock the row
    ticket = (_TICKET_FOR_UPDATE if for_update else _TICKET).first(id=ticket_id)
    if ticket is None or not principal.sees_client(ticket.client_id):
        raise NotFound("ticket not found")
    listed = ticket.configuration_list
    ticket._configuration_ids = [uuid.UUID(c) for c in listed.split(",")] if listed else []
    return ticket


def member_of_tenant(member_id, field: str) -> MemberView:
    member = known_member(member_id) if member_id else None
    if member is None:
        raise field_error(field, "member not found")
    return member


def check_granted(member_id, client_id, field: str) -> None:
    """The member may see the client (granted it, or all clients), by the rule that scopes their
    own requests: a ticket, task or booking of a client they cannot see sits in a queue they
    cannot open."""
    if not Principal(member_of_tenant(member_id, field)).sees_client(client_id):
        raise field_error(field, "member has no grant for this client")


def check_assignee(member_id, client_id, field: str = "assignee_id") -> MemberView:
    """A member of the tenant still with the MSP, who may see the client: work handed to a
    deactivated member would sit in a queue nobody reads (a ticket they already hold stays theirs
    until reassigned), and work of a client they cannot see, in one they cannot open. A time
    entry's member is held to it too (`field` "member_id", see `time_entries`)."""
    member = member_of_tenant(member_id, field)
    if not member.active:
        raise field_error(field, "member is deactivated")
    check_granted(member_id, client_id, field)
    return member


def _check_contact(contact_id, client_id) -> None:
    contact = Contact.get_or_none(Contact.id == contact_id)
    if contact is None or contact.client_id != client_id:
        raise field_error("contact_id", "contact not found for this client")


def _check_configurations(client_id, configuration_ids: list) -> set:
    wanted = set(configuration_ids)
    found = set()
    if wanted:
        rows = ConfigurationRef.select(ConfigurationRef.id).where(
            ConfigurationRef.id.in_(list(wanted))
            & (ConfigurationRef.client_id == client_id)
            & (ConfigurationRef.deleted == False)  # noqa: E712
        )
        found = {r.id for r in rows}
    if missing := wanted - found:
        raise field_error(
            "configuration_ids", f"configuration not found for this client: {sorted(map(str, missing))[0]}"
        )
    return wanted


def _link_configurations(ticket: Ticket) -> None:
    """Write the links to `ticket._configuration_ids` (checked for the ticket's client)."""
    if ticket._configuration_ids:
        rows = [{"ticket": ticket.id, "configuration_id": c} for c in ticket._configuration_ids]
        TicketConfiguration.insert_many(rows).execute()


def _set_configurations(ticket: Ticket, configuration_ids: list) -> bool:
    """Replace the ticket's configurations; False when the list names the same ones. Only those
    newly named must be active: one the vault retired since stays on the ticket while kept."""
    wanted, linked = set(configuration_ids), set(ticket._configuration_ids)
    if wanted == linked:
        return False
    _check_configurations(ticket.client_id, list(wanted - linked))
    ticket._configuration_ids = sorted(wanted, key=str)
    TicketConfiguration.delete().where(TicketConfiguration.ticket == ticket.id).execute()
    _link_configurations(ticket)
    return True


_INSERT_TICKET, _INSERT_CHANGE = Insert(Ticket), Insert(TicketChange)


def trail_row(ticket: Ticket, actor_id, kind: str, text: str, old=None, new=None, client_visible: bool = True, at=None):
    return TicketChange(
        ticket=ticket.id,
        actor=actor_id,
        kind=kind,
        old_value=None if old is None else str(old)[:200],
        new_value=None if new is None else str(new)[:200],
        text=text,
        client_visible=client_visible,
        at=at or clock.now(),
    )


def record(ticket: Ticket, actor_id, kind: str, text: str, old=None, new=None, client_visible: bool = True) -> None:
    _INSERT_CHANGE.write(trail_row(ticket, actor_id, kind, text, old, new, client_visible))


def refresh_due_times(ticket: Ticket, *, resolve_settled: bool | None = None) -> None:
    """Work the open targets out again (priority, board targets and pauses as they are now). A
    target already met is settled: the response's due time once a member responded, the
    resolution's once the ticket was closed, so a later wait or priority change neither forgives a
    late one nor makes an on-time one late. `resolve_settled` (default: closed) is for a status
    change, which knows whether the ticket was closed before it."""
    target = boards.targets(ticket.board_id).get(ticket.priority)
    clock_ = sla.Clock(
        created_at=ticket.created_at,
        respond_minutes=target.respond_minutes if target else None,
        resolve_minutes=target.resolve_minutes if target else None,
        paused_minutes=ticket.sla_paused_minutes,
    )
    respond_due, resolve_due = sla.due_times(boards.calendar(), clock_)
    if ticket.responded_at is None:
        ticket.respond_due_at = respond_due
    if not (ticket.closed_at is not None if resolve_settled is None else resolve_settled):
        ticket.resolve_due_at = resolve_due  # closing works it out once more: the last wait counts


def create_ticket(principal: Principal, *, client_id, summary: str, **fields) -> Ticket:
    """Checks, SLA arithmetic, the trail row and the event first: the transaction only numbers and
    writes (SQLite has one writer at a time, so its length is the service's write rate; PostgreSQL
    gets its statements in one round trip). Foreign keys still refuse a client, contact or member
    deleted in between."""
    now = clock.now()
    check_client(principal, client_id, field="client_id")
    board_id = fields.pop("board_id", None)
    board = boards.get_board(board_id, "board_id") if board_id else boards.default_board()
    status_name = fields.pop("status", None)
    status = boards.status_named(board.id, status_name) if status_name else boards.default_status(board.id)
    if fields.get("contact_id"):
        _check_contact(fields["contact_id"], client_id)
    if fields.get("assignee_id"):
        check_assignee(fields["assignee_id"], client_id)
    configurations = _check_configurations(client_id, fields.pop("configuration_ids", None) or [])
    ticket = Ticket(
        client=client_id, board=board.id, status=status.id, summary=summary, created_at=now, updated_at=now,
        number=0, **{k: v for k, v in fields.items() if v is not None},
    )  # fmt: skip
    ticket._configuration_ids = sorted(configurations, key=str)
    _enter(ticket, status, now)
    refresh_due_times(ticket, resolve_settled=False)
    created = outbox.prepare("ticket.created", ticket_payload(ticket))  # validated with number 0
    opened = trail_row(ticket, principal.member_id, "created", "", at=now)  # at the ticket's created_at
    # PostgreSQL keeps the counter row locked from its UPDATE to the commit, so numbering inside the
    # ticket's transaction would queue each of a tenant's creates behind the one before: there the
    # number comes from its own short transaction (a create failing after it leaves a gap).
    number = next_number("ticket") if db.is_postgres else None
    with db.atomic_writes():
        ticket.number = number or next_number("ticket")
        opened.text = f"Ticket #{ticket.number} opened: {summary}"
        _INSERT_TICKET.write(ticket)
        _link_configurations(ticket)
        _INSERT_CHANGE.write(opened)
        outbox.write(dataclasses.replace(created, payload={**created.payload, "number": ticket.number}))
    return ticket


def _enter(ticket: Ticket, status: Status, now) -> None:
    """Move the ticket's clocks for entering `status`: waiting pauses the SLA, closed stops it."""
    if ticket.status_kind == "waiting" and status.kind != "waiting" and ticket.waiting_since:
        _resume(ticket, ticket.waiting_since, now)
    if ticket.status_kind == "closed" and status.kind != "closed" and ticket.closed_at:
        # reopened: the time it stood closed was nobody's to work on, so it pauses the clocks as
        # a wait does (a ticket reopened a week after closing was breached at once)
        _resume(ticket, ticket.closed_at, now)
    if status.kind == "waiting" and ticket.status_kind != "waiting":
        ticket.waiting_since = now
    elif status.kind != "waiting":
        ticket.waiting_since = None
    ticket.closed_at = (ticket.closed_at or now) if status.kind == "closed" else None
    ticket.status, ticket.status_kind = status.id, status.kind


def _resume(ticket: Ticket, stopped, now) -> None:
    """The SLA clocks start again after standing still since `stopped` (a wait, or a closing)."""
    calendar = boards.calendar()
    ticket.sla_paused_minutes += sla.business_minutes_between(calendar, stopped, now)
    answered = ticket.responded_at
    if answered and ticket.respond_due_at and answered > stopped:
        # answered while it stood still: the respond clock stood still from the stop to the
        # answer, and that part of the stop alone moves its (otherwise settled) due time
        # rounded up: a reply 80 s into a wait that began with 10 s on the clock moved the due
        # time one minute, 20 s short of the reply, and read breached (until 2026-11-28)
        held = sla.business_minutes_between(calendar, stopped, answered, rounded_up=True)
        ticket.respond_due_at = sla.add_business_minutes(calendar, ticket.respond_due_at, held)


STOPPING = ("waiting", "closed")  # the kinds that stand the SLA clocks still (`_enter`)
REPLAYED = ("board", "status", "priority")  # the trail rows a ticket's SLA history is read back from


def respond_due_as_first(ticket: Ticket, answered) -> dt.datetime | None:
    """The respond due time of a response at `answered` had it been the first (one taking over
    from a response withdrawn, see `time_entries`): the target of the board and priority the
    ticket had then, and the waits and closed spells before it as `_resume` counts them. The row
    keeps only the total of its pauses, so each one's start and end are read back from the trail."""
    board_id, priority, stops = _replayed(ticket, answered)
    target = boards.targets(board_id).get(priority)
    respond = target.respond_minutes if target else None
    return sla.respond_due_as_first(boards.calendar(), ticket.created_at, respond, stops, answered)


def _replayed(ticket: Ticket, until) -> tuple[uuid.UUID, str, list[sla.Stop]]:
    """The ticket's board and priority at `until`, and its stops (runs of waiting, or of closed,
    statuses), replaying its trail's status, board and priority changes. A status name is read on
    the board the ticket was then on (the trail keeps names; statuses are never renamed or
    removed), or on any board where that board was renamed since."""
    rows = _changes(ticket.id, REPLAYED)
    named = {board.name.casefold(): board.id for board in boards.current().boards.values()}
    first = {row.kind: row.old_value for row in reversed(rows)}  # each one's value before its first change
    current = {
        "board": ticket.board_id,
        "status": boards.status_by_id(ticket.status_id).name,
        "priority": ticket.priority,
    }
    state = {name: _value(name, first[name], named) if name in first else current[name] for name in REPLAYED}
    then, kind = dict(state), _kind(state["board"], state["status"])
    stops = [(ticket.created_at, None)] if kind in STOPPING else []
    for row in rows:
        state[row.kind] = _value(row.kind, row.new_value, named)
        then = dict(state) if row.at <= until else then
        if (entered := _kind(state["board"], state["status"])) != kind:
            if kind in STOPPING:
                stops[-1] = (stops[-1][0], row.at)
            if entered in STOPPING:
                stops.append((row.at, None))
            kind = entered
    return then["board"] or ticket.board_id, then["priority"], stops


def _changes(ticket_id, kinds: tuple[str, ...]) -> list[TicketChange]:
    """The ticket's trail rows of these kinds, oldest first (the ids order those of one instant)."""
    query = TicketChange.select(TicketChange.kind, TicketChange.old_value, TicketChange.new_value, TicketChange.at)
    query = query.where((TicketChange.ticket == ticket_id) & TicketChange.kind.in_(kinds))
    return list(query.order_by(TicketChange.at, TicketChange.id))


def _value(kind: str, trailed: str, named: dict):
    """A trail row's value: a board by its name (None: renamed since), else the name or priority."""
    return named.get(trailed.casefold()) if kind == "board" else trailed


def _kind(board_id, name: str) -> str | None:
    """The kind of the status called `name` on the board (None: unknown), else on any board."""
    alike = [s for s in boards.current().statuses.values() if s.name.casefold() == name.casefold()]
    return next((s.kind for s in alike if s.board_id == board_id), alike[0].kind if alike else None)


def move_to(ticket: Ticket, status: Status, actor_id) -> str:
    """Change the ticket's status, trail it, refresh due times; returns the old status name (caller emits)."""
    old = boards.status_by_id(ticket.status_id).name
    was_closed = ticket.closed_at is not None
    _enter(ticket, status, clock.now())
    refresh_due_times(ticket, resolve_settled=was_closed and ticket.closed_at is not None)
    if old != status.name:  # else a move to another board's status of the same name: the move is trailed
        record(ticket, actor_id, "status", f"Status changed from {old} to {status.name}", old, status.name)
    return old


def update_ticket(principal: Principal, ticket_id, **changes) -> Ticket:
    with db.proxy.atomic():
        ticket = get_ticket(principal, ticket_id, for_update=True)
        actor, old_status = principal.member_id, None
        moved = changes.get("board_id", ticket.board_id) != ticket.board_id
        if moved:
            _move_board(ticket, boards.get_board(changes.pop("board_id"), "board_id"), actor)
        if "status" in changes or moved:
            name = changes.pop("status", None)
            status = boards.status_named(ticket.board_id, name) if name else _alike_status(ticket)
            if status.id != ticket.status_id:
                old_status = move_to(ticket, status, actor)
                old_status = None if old_status == status.name else old_status  # only the board changed
        if changes.get("contact_id"):
            _check_contact(changes["contact_id"], ticket.client_id)
        if changes.get("assignee_id") and changes["assignee_id"] != ticket.assignee_id:
            check_assignee(changes["assignee_id"], ticket.client_id)
        touched = _apply_fields(ticket, actor, changes) or moved
        relinked = "configuration_ids" in changes and _set_configurations(ticket, changes["configuration_ids"] or [])
        touched = touched or relinked
        if old_status is None and not touched:
            return ticket  # nothing changed: no write, no event, `updated_at` stays
        ticket.updated_at = clock.now()
        ticket.save()
        if old_status is not None:
            emit("ticket.status_changed", {**ticket_payload(ticket), "old_status": old_status})
        if touched:
            emit("ticket.updated", ticket_payload(ticket))
        if relinked:
            # the vault's history of a configuration is built from time entries: work logged before
            # the PC was linked is the PC's history too, and one linked by mistake is not
            for entry in TimeEntry.select().where(TimeEntry.ticket == ticket.id):
                emit("time_entry.updated", time_entry_payload(entry, ticket))
    return ticket


def _move_board(ticket: Ticket, board: Board, actor) -> None:
    """File the ticket under `board` (its status follows: see `_alike_status`); SLA targets are
    then the new board's, worked out again by the status change that always comes with it."""
    old = boards.get_board(ticket.board_id).name
    ticket.board = board.id
    record(ticket, actor, "board", f"Moved from board {old} to {board.name}", old, board.name, client_visible=False)


def _alike_status(ticket: Ticket) -> Status:
    """After a move with no status named: the new board's status of the same name, else its default
    open status, its closing status, or its first waiting one, as the old status's kind was."""
    old = boards.status_by_id(ticket.status_id)
    found = boards.statuses(ticket.board_id)
    named = [s for s in found if s.name.casefold() == old.name.casefold()]
    if named or old.kind == "waiting":
        waiting = named or [s for s in found if s.kind == "waiting"]
        if not waiting:
            raise field_error("status", "the board has no waiting status: name the status to move the ticket to")
        return waiting[0]
    return boards.default_status(ticket.board_id) if old.kind == "open" else boards.closing_status(ticket.board_id)


def _apply_fields(ticket: Ticket, actor, changes: dict) -> bool:
    touched = False
    for name in TRACKED:
        if name not in changes or getattr(ticket, name) == changes[name]:
            continue
        old, new = getattr(ticket, name), changes[name]
        setattr(ticket, name, new)
        touched = True
        if name == "summary":  # the client reads it on every report heading: a change between is trailed
            record(ticket, actor, "summary", f"Summary changed to {new}", old, new)
        elif name == "priority":
            record(ticket, actor, "priority", f"Priority changed from {old} to {new}", old, new)
            refresh_due_times(ticket)
        elif name == "assignee_id":
            who = Member.get_by_id(new).name if new else None
            record(ticket, actor, "assignee", f"Assigned to {who}" if who else "Unassigned", old, new)
        elif name == "estimate_minutes":
            text = f"Estimate changed from {_minutes(old)} to {_minutes(new)}"
            record(ticket, actor, "estimate", text, old, new, client_visible=False)
    return touched


def _minutes(value) -> str:
    return "none" if value is None else f"{value} min"


def mark_responded(ticket: Ticket, at) -> None:
    """The first client-visible action by a member stops the respond clock (caller saves)."""
    if ticket.responded_at is None:
        ticket.responded_at = at
