"""Time entries on tickets and project tasks; spent minutes kept on the parent in the same transaction.

Project code calls these too: `log_time(principal, task=task, client_id=project.client_id, ...)`.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import peewee
from peewee import fn

from psa_shared.auth import MemberView, Principal
from psa_shared.errors import Conflict, NotFound, field_error
from psa_shared.statements import Insert, Slot, Statement

from ..database import db, emit, outbox
from ..directory.models import Member
from ..projects.models import Task
from . import autoclose, clock
from .events import time_entry_deleted_payload, time_entry_payload
from .models import BILLING_OPTIONS, OUTCOMES, Note, Ticket, TimeEntry
from .tickets import check_assignee, get_ticket, member_of_tenant, record, refresh_due_times, respond_due_as_first

MAX_MINUTES = 24 * 60
AHEAD = dt.timedelta(days=1)  # a wrong clock or time zone, or today's work logged early, is not a typo
# No MSP's work predates the Unix epoch, while a dropped digit ("0226") or a client's zero date
# ("0001-01-01") lands before it: refused, rather than billed, sorted first and unprintable.
EARLIEST = dt.datetime(1970, 1, 1)
BLANK = " \t\n\r\f\v"  # what blank notes are made of, trimmed alike in Python and in SQL (`_first_response`)
FIELDS = ("member_id", "started_at", "minutes", "billing", "notes", "internal_notes", "outcome", "work_type")


def _check(fields: dict) -> None:
    """The rules the API schema also enforces, for callers that skip the schema."""
    minutes = fields.get("minutes", 0)
    if not isinstance(minutes, int) or not 0 <= minutes <= MAX_MINUTES:
        raise field_error("minutes", f"whole minutes from 0 to {MAX_MINUTES}")
    if fields.get("billing", "billable") not in BILLING_OPTIONS:
        raise field_error("billing", f"one of {', '.join(BILLING_OPTIONS)}")
    if fields.get("outcome") not in (None, *OUTCOMES):
        raise field_error("outcome", f"one of {', '.join(OUTCOMES)} or null")
    if (started := fields.get("started_at")) is not None and started > clock.now() + AHEAD:
        # work not done yet is a schedule entry; a mistyped year would bill it, sort it after every
        # later call and count it as the last contact attempt until that date (see autoclose)
        raise field_error("started_at", "must not be more than a day in the future")
    if started is not None and started < EARLIEST:
        raise field_error("started_at", "must not be before 1970-01-01")
    if unknown := set(fields) - set(FIELDS):
        raise field_error(sorted(unknown)[0], "unknown field")


def _spent(responded: bool) -> peewee.Update:
    changes = {Ticket.spent_minutes: Ticket.spent_minutes + Slot("delta")}
    if responded:
        changes[Ticket.responded_at] = fn.COALESCE(Ticket.responded_at, Slot("at", Ticket.responded_at.db_value))
    return Ticket.update(changes).where(Ticket.id == Slot("id"))


# by whether the entry answers the client (`_answers`)
_SPENT = {responded: Statement(lambda responded=responded: _spent(responded)) for responded in (False, True)}
# A new entry's event is built from the ticket as the caller read it, before the transaction. A
# relink committed in between re-sent the ticket's entries without this one, so this one must
# carry the new configurations: the UPDATE (run even for zero minutes) holds the ticket to the
# commit and checks it is the ticket as read; one edited since (every edit moves `updated_at`,
# logged time does not) is read again and the entry built anew. On PostgreSQL an UPDATE that
# waited for the row reads it as committed meanwhile, and `psa_expect` raises inside the
# transaction's one message (`ServiceDatabase.expected`). SQLite returns the check (no Python
# function called from inside the writer's turn), and its writers take turns, so nothing commits
# in between.
_SPENT_AS_READ = {
    responded: Statement(lambda responded=responded: _spent(responded).returning(_as_read()))
    for responded in (False, True)
}
RETRIES = 3


class TicketChanged(Exception):
    """The ticket changed between the caller's read and the entry's transaction."""


def _as_read() -> peewee.Expression:
    same = Ticket.updated_at == Slot("seen", Ticket.updated_at.db_value)
    return fn.psa_expect(same, TicketChanged.__name__) if db.is_postgres else same


_INSERT_ENTRY = Insert(TimeEntry)


def _answers(entry: TimeEntry, responds: bool = True) -> bool:
    """A member's client-visible note is the ticket's first response (the earliest one stays), at
    the moment the entry was written with it: notes added by an edit reach the client at the edit,
    not when the entry was first logged."""
    return responds and bool((entry.notes or "").strip(BLANK))


def _move_parent(entry: TimeEntry, delta: int, responds: bool = True) -> None:
    """Spent minutes follow the entry, and the ticket's first response (`_answers`)."""
    answers = _answers(entry, responds)
    if entry.ticket_id and (answers or delta):
        _SPENT[answers].run(id=entry.ticket_id, delta=delta, at=entry.updated_at)
    if entry.task_id and delta:
        Task.update(spent_minutes=Task.spent_minutes + delta).where(Task.id == entry.task_id).execute()


def log_time(
    principal: Principal, *, ticket: Ticket | None = None, task: Task | None = None, client_id=None, **fields
) -> TimeEntry:
    """Log work on a ticket or a task (exactly one). The caller has checked the parent is visible.

    Args:
        principal: the caller, kept as the entry's `recorded_by_id`; `member_id` defaults to them.
        ticket / task: the parent row; its spent minutes move with the entry.
        client_id: the task's client (for a ticket it is the ticket's and may be omitted).
        fields: started_at (naive UTC, 1970 to a day ahead, default now), minutes (0..1440), billing, notes,
            internal_notes, outcome (reached | no_response | None), work_type, member_id.
    """
    if (ticket is None) == (task is None):
        raise ValueError("log time on exactly one of ticket or task")
    _check(fields)
    member = _worker(fields.pop("member_id", None) or principal.member_id, ticket.client_id if ticket else client_id)
    fields["recorded_by_id"] = principal.member_id
    for _ in range(RETRIES):
        try:
            return _log(ticket, task, client_id, member, dict(fields))
        except TicketChanged:
            ticket = get_ticket(principal, ticket.id)
    raise Conflict("the ticket keeps changing; log the time again")


def _worker(member_id, client_id) -> MemberView:
    """The member whose work an entry is: one of the tenant, granted the client (their time on a
    client they cannot see is work they could not have been given), and still with the MSP. A
    leaver does no new work: time in their name is a slip in the picker, billed under someone
    nobody can ask (log a leaver's last hours before deactivating them; entries already theirs
    stay editable)."""
    return check_assignee(member_id, client_id, "member_id")


def _log(ticket: Ticket | None, task: Task | None, client_id, member, fields: dict) -> TimeEntry:
    now = clock.now()
    fields.setdefault("started_at", now)
    entry = TimeEntry(
        ticket=ticket.id if ticket else None,
        task_id=task.id if task else None,
        client_id=ticket.client_id if ticket else client_id,
        member=member.id,
        created_at=now,
        updated_at=now,
        **{k: v for k, v in fields.items() if v is not None or k == "outcome"},
    )
    logged = outbox.prepare("time_entry.logged", time_entry_payload(entry, ticket, project_id=task and task.project_id))
    with _changes_of(ticket), db.atomic_writes():  # writes only: see create_ticket
        _INSERT_ENTRY.write(entry)
        if ticket is not None:
            _log_on_ticket(entry, ticket)
        else:
            _move_parent(entry, entry.minutes)
        outbox.write(logged)
        if ticket is not None:
            autoclose.after_entry(ticket, entry)
    return entry


def _log_on_ticket(entry: TimeEntry, ticket: Ticket) -> None:
    """`_move_parent` for a new entry on `ticket`, refused if the ticket changed since it was read."""
    held = _SPENT_AS_READ[_answers(entry)].run_returning(
        id=ticket.id, delta=entry.minutes, at=entry.updated_at, seen=ticket.updated_at
    )
    if held and not held[0][0]:
        raise TicketChanged


@contextmanager
def _changes_of(ticket: Ticket | None):
    """PostgreSQL's refusal by `psa_expect`, raised at the commit, as `TicketChanged`."""
    try:
        yield
    except peewee.DatabaseError as error:
        if ticket is not None and db.expected(error) == TicketChanged.__name__:
            raise TicketChanged from error
        raise


def get_entry(entry_id, *, ticket: Ticket | None = None, task=None) -> TimeEntry:
    """An entry of this ticket or this project task (the caller checked access to it), or 404."""
    logged_on = TimeEntry.ticket == ticket.id if ticket is not None else TimeEntry.task_id == task.id
    entry = TimeEntry.get_or_none((TimeEntry.id == entry_id) & logged_on)
    if entry is None:
        raise NotFound("time entry not found")
    return entry


def _locked_entry(entry_id) -> TimeEntry:
    """The entry as committed now, locked for this transaction: billing may have posted it, or
    another edit moved its minutes, since the caller read it; or another request deleted it."""
    entry = db.locked(TimeEntry.select().where(TimeEntry.id == entry_id)).first()
    if entry is None:
        raise NotFound("time entry not found")
    return entry


def _locked_ticket(entry: TimeEntry) -> Ticket | None:
    """The entry's ticket (None for a task's), locked for this transaction (after the entry)."""
    return db.locked(Ticket.select().where(Ticket.id == entry.ticket_id)).get() if entry.ticket_id else None


def _withdraw_response(ticket: Ticket) -> None:
    """An entry that answered the client is deleted, or no longer says anything: the response is
    the earliest of what remains, never earlier than the one withdrawn (an entry given notes by an
    edit answered at the edit, a moment not kept: from its creation, the old response bounds it),
    or none. With none, the respond target is open again and its due time is worked out afresh:
    a wait after the withdrawn response paused it as any wait does (until 2026-11-28 it kept the
    due time settled at the response, and read breached until an unrelated edit moved it). The
    response that takes over gets the due time it would have had as the first: the waits before it
    count, and one it was written in as `_resume` counts it (`respond_due_as_first`; until
    2026-11-28 it was held to the due time settled at the response withdrawn)."""
    if ticket.responded_at is None:
        return
    first = _first_response(ticket.id)
    responded = None if first is None else max(first, ticket.responded_at)
    if responded != ticket.responded_at:
        ticket.responded_at = responded
        if responded is None:
            refresh_due_times(ticket)
        else:
            ticket.respond_due_at = respond_due_as_first(ticket, responded)
        changed = {"responded_at": responded, "respond_due_at": ticket.respond_due_at}
        Ticket.update(changed).where(Ticket.id == ticket.id).execute()


def _first_response(ticket_id) -> dt.datetime | None:
    """When the earliest client-visible action by a member still on the ticket was written: a
    client-visible note (the system's auto-close note is none), or an entry with notes (`_answers`).
    One query over the ticket's rows of both tables, by their (tenant, ticket, ...) indexes."""
    trim = fn.btrim if db.is_postgres else fn.trim  # both take the characters to trim
    notes = Note.select(fn.MIN(Note.created_at).alias("at")).where(
        (Note.ticket == ticket_id) & (Note.internal == False) & Note.author.is_null(False)  # noqa: E712
    )
    entries = TimeEntry.select(fn.MIN(TimeEntry.created_at).alias("at")).where(
        (TimeEntry.ticket == ticket_id) & (trim(TimeEntry.notes, BLANK) != "")
    )
    found = [Note.created_at.python_value(at) for (at,) in notes.union_all(entries).tuples() if at is not None]
    return min(found, default=None)


def _refuse_billed(entry: TimeEntry) -> None:
    if entry.billed_invoice_id:
        message = "the entry is on a posted invoice; correct it with a credit note"
        raise Conflict(message, errors={"billed_invoice_id": [message]})


def update_time_entry(principal: Principal, entry: TimeEntry, **changes) -> TimeEntry:
    """Edit an unbilled entry; the parent's spent minutes follow the new minutes. An edit that
    changes nothing writes nothing. On a ticket, the trail keeps what changed (internal only)."""
    _check({"minutes": entry.minutes, **changes})
    with db.proxy.atomic():
        entry = _locked_entry(entry.id)
        _refuse_billed(entry)
        if "member_id" in changes:
            changes["member_id"] = member_of_tenant(changes["member_id"], "member_id").id
            if changes["member_id"] != entry.member_id:  # a leaver's own entry stays editable
                _worker(changes["member_id"], entry.client_id)
        changes = {name: value for name, value in changes.items() if getattr(entry, name) != value}
        if not changes:
            return entry  # nothing changed: no write, no event for billing
        # the ticket locked before the edit's moment is taken: a relink of its configurations
        # (which re-sends this entry) commits wholly before or after, so the later of the two
        # events carries the later `revised_at`, and this one the configurations as they are
        # now (read after the lock, not in the locking statement, whose snapshot is older)
        ticket = _locked_ticket(entry)
        old_minutes, before, answered = entry.minutes, {name: getattr(entry, name) for name in changes}, _answers(entry)
        named = _named(entry)  # as the dispatcher knew it: by its start before the edit
        for name, value in changes.items():
            setattr(entry, name, value)
        entry.updated_at = clock.now()
        entry.save()
        _move_parent(entry, entry.minutes - old_minutes)
        if ticket is not None:
            if answered and not _answers(entry):
                _withdraw_response(ticket)
            what = ", ".join(_changed(name, before[name], value) for name, value in changes.items())
            record(ticket, principal.member_id, "time_entry_edited", f"Edited {named}: {what}",
                   old_minutes, entry.minutes, client_visible=False)  # fmt: skip
        emit("time_entry.updated", time_entry_payload(entry, ticket))
    return entry


def _named(entry: TimeEntry) -> str:
    return f"the time entry of {entry.started_at:%Y-%m-%d %H:%M} UTC"


def _changed(name: str, old, new) -> str:
    """One changed field for the trail: values that are short, and whose time it was (the trail
    is internal), names alone for texts."""
    if name in ("minutes", "billing", "outcome"):
        return f"{name} {_shown(old)} -> {_shown(new)}"
    if name == "started_at":
        return f"start {old:%Y-%m-%d %H:%M} -> {new:%Y-%m-%d %H:%M} UTC"
    if name == "member_id":
        return f"member {Member.get_by_id(old).name} -> {Member.get_by_id(new).name}"
    return {"internal_notes": "internal notes", "work_type": "work type"}.get(name, name)


def _shown(value) -> str:
    return "none" if value is None else str(value)  # an outcome cleared or never set (printed "None")


def delete_time_entry(principal: Principal, entry: TimeEntry) -> None:
    """Delete an unbilled entry; on a ticket, the trail keeps what it was (internal only), so the
    work a dispatcher once read there does not vanish without a word."""
    with db.proxy.atomic():
        entry = _locked_entry(entry.id)
        _refuse_billed(entry)
        ticket = _locked_ticket(entry)  # before the response is worked out again: a note may be on its way
        _move_parent(entry, -entry.minutes, responds=False)
        entry.delete_instance()
        if ticket is not None:
            if _answers(entry):
                _withdraw_response(ticket)
            text = f"Deleted {_named(entry)} ({entry.minutes} min, {entry.billing})"
            text += f": {entry.notes}" if entry.notes else ""
            record(ticket, principal.member_id, "time_entry_deleted", text,
                   entry.minutes, None, client_visible=False)  # fmt: skip
        emit("time_entry.deleted", time_entry_deleted_payload(entry))
