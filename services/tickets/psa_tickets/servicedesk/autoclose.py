"""Auto-close: a ticket waiting on the client closes after N unanswered attempts in a row and/or D
business days without an answer, with the board's note. Counting starts when the ticket entered the
waiting status; an attempt that reached the client, or leaving that status, starts both again."""

from __future__ import annotations

from psa_shared import tenancy

from ..database import db, emit
from . import boards, clock, sla
from .events import note_payload, ticket_payload
from .models import Board, Note, Ticket, TimeEntry
from .tickets import move_to

# What the client reads when the board sets no note of its own, after why it closed (`why_due`).
DEFAULT_NOTE = (
    "{why}, so we are closing this request. Open a new request whenever you are ready and we will pick it up."
)


def _in_this_wait(ticket: Ticket):
    """Entries dated from the start of the wait to now. An entry may be dated up to a day ahead
    (today's calls logged early), and counts once its time has come: counted at once, three calls
    dated this afternoon closed the ticket this morning, its note telling the client we had tried
    to reach her before any call was made, and calls logged ahead in an earlier wait counted in
    the next one."""
    return TimeEntry.started_at.between(ticket.waiting_since, clock.now())


def unanswered_attempts(ticket: Ticket) -> int:
    """No-response attempts since the ticket started waiting, counted back to the last one that reached."""
    attempts = (
        TimeEntry.select(TimeEntry.outcome)
        .where((TimeEntry.ticket == ticket.id) & TimeEntry.outcome.is_null(False) & _in_this_wait(ticket))
        .order_by(TimeEntry.started_at.desc(), TimeEntry.id.desc())
    )
    count = 0
    for attempt in attempts:
        if attempt.outcome != "no_response":
            break
        count += 1
    return count


def last_answer(ticket: Ticket):
    """When the client last answered in this wait: the latest `reached` attempt since the ticket
    started waiting, or the start of the wait. The business days run from there."""
    reached = (
        TimeEntry.select(TimeEntry.started_at)
        .where((TimeEntry.ticket == ticket.id) & (TimeEntry.outcome == "reached") & _in_this_wait(ticket))
        .order_by(TimeEntry.started_at.desc())
        .first()
    )
    return reached.started_at if reached else ticket.waiting_since


def why_due(ticket: Ticket, board: Board) -> str | None:
    """Why the board's policy closes this ticket now, as the default note tells the client; None
    while it stays open. One wording for both reasons told a client closed after days of silence,
    never called, that we had tried to reach her several times."""
    if ticket.status_kind != "waiting" or ticket.waiting_since is None:
        return None
    if board.autoclose_attempts and (tried := unanswered_attempts(ticket)) >= board.autoclose_attempts:
        return f"We tried to reach you {_count(tried, 'time')} without an answer"
    if board.autoclose_business_days:
        days = sla.business_days_between(boards.calendar(), last_answer(ticket), clock.now())
        if days >= board.autoclose_business_days:
            return f"We have not heard from you for {_count(days, 'business day')}"
    return None


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"  # "for 1 business days" read as a form letter


def close(ticket: Ticket, board: Board, why: str) -> None:
    """Close with the board's note, written by the system and shown to the client (inside a transaction)."""
    old = move_to(ticket, boards.closing_status(board.id), None)
    # a note of spaces alone, taken until 2026-11-27, would close the ticket saying nothing
    text = board.autoclose_note if (board.autoclose_note or "").strip() else DEFAULT_NOTE.format(why=why)
    note = Note.create(ticket=ticket.id, author=None, text=text, internal=False, created_at=clock.now())
    ticket.updated_at = clock.now()
    ticket.save()
    emit("ticket.status_changed", {**ticket_payload(ticket), "old_status": old})
    emit("note.created", note_payload(note, ticket))


def after_entry(ticket: Ticket, entry: TimeEntry) -> bool:
    """Run on each new time entry on a ticket (inside its transaction); True when it closed the ticket.
    `ticket` may have been read before the transaction: a waiting one is read again, locked, as
    a status change may be on its way."""
    if ticket.status_kind != "waiting":
        return False
    ticket = db.locked(Ticket.select().where(Ticket.id == ticket.id)).get()
    board = boards.get_board(ticket.board_id)
    why = why_due(ticket, board)
    if why is None:
        return False
    close(ticket, board, why)
    return True


def sweep() -> int:
    """Close every waiting ticket of the tenant in context whose board's policy says so. Each
    ticket is judged as it is once locked, by the policy of the board it is on then, as committed
    then: a ticket moved meanwhile is the new board's, and a policy turned off or raised meanwhile
    holds (until 2026-11-28 the pass judged by the policies read as it began, and closed a ticket
    moved away by the old board's, into the old board's Closed status)."""
    closed = 0
    policed = Board.select(Board.id).where(
        Board.autoclose_attempts.is_null(False) | Board.autoclose_business_days.is_null(False)
    )
    for board_id in [board.id for board in policed]:
        waiting = Ticket.select(Ticket.id).where((Ticket.board == board_id) & (Ticket.status_kind == "waiting"))
        for ticket_id in [t.id for t in waiting]:
            with db.proxy.atomic():
                query = Ticket.select().where(Ticket.id == ticket_id)
                ticket = db.locked(query).first()  # fresh, under lock
                board = Board.get_by_id(ticket.board_id)  # read now: `boards.get_board` keeps the pass's first copy
                why = why_due(ticket, board)
                if why is not None:
                    close(ticket, board, why)
                    closed += 1
    return closed


def sweep_tenant(tenant_id) -> int:
    with tenancy.acting_as("system:autoclose"), tenancy.tenant_scope(tenant_id):
        return sweep()
