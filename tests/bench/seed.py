"""Bulk seeding of one large tenant: tickets, time entries (spent minutes kept in step) and members.

Rows go in with `insert_many` inside `tenant_scope`, so the tenancy guard still stamps every row.
Numbers are deterministic: entry `e` of ticket `t` lasts `(t + 13 * e) % 91` minutes, so each
ticket's spent minutes are known before its entries are written.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass, field

from psa_shared.auth import KeyRing
from psa_shared.config import Settings
from psa_shared.ids import new_id
from psa_shared.tenancy import tenant_scope

BATCH = 1000
CLIENTS = 200
MEMBERS = 10
BIG_TICKET_ENTRIES = 500
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")


@dataclass
class Seeded:
    tenant_id: str
    token: str
    client_ids: list[str]
    member_ids: list[str]  # the admin first
    open_ticket_ids: list[str]  # a sample to aim time entries at
    big_ticket_id: str
    tickets: int
    entries: int
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def _minutes(ticket: int, entry: int) -> int:
    return (ticket + 13 * entry) % 91


def _entry_counts(tickets: int, entries: int) -> list[int]:
    """Entries per ticket: ticket 0 gets the 500-entry trail, the rest share what is left."""
    big = min(BIG_TICKET_ENTRIES, entries)
    rest, others = entries - big, max(tickets - 1, 1)
    base, extra = divmod(rest, others)
    return [big] + [base + (1 if i < extra else 0) for i in range(tickets - 1)]


def _batches(rows, size=BATCH):
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def seed(settings: Settings, tickets: int, entries: int) -> Seeded:
    from psa_tickets.database import db
    from psa_tickets.directory.models import Client, Counter, Member
    from psa_tickets.directory.tenants import create_tenant
    from psa_tickets.directory.tokens import member_view
    from psa_tickets.servicedesk.models import Board, Status, Ticket, TimeEntry

    started = dt.datetime.now()
    with db.proxy.connection_context():
        tenant, admin = create_tenant("Bench MSP", "admin@bench.example", None)
        with tenant_scope(tenant.id):
            token = KeyRing.load(settings, issuer=True).mint(member_view(admin), 6 * 3600)
            board = Board.get(Board.is_default)
            statuses = {s.kind: s for s in Status.select().where(Status.board == board.id)}
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            with db.proxy.atomic():
                clients = [{"id": new_id(), "number": n + 1, "name": f"Client {n + 1}"} for n in range(CLIENTS)]
                members = [
                    {"id": new_id(), "email": f"tech{n}@bench.example", "name": f"Tech {n}", "role": "technician"}
                    for n in range(MEMBERS)
                ]
                Client.insert_many(clients).execute()
                Member.insert_many(members).execute()
            member_ids = [admin.id] + [m["id"] for m in members]
            counts = _entry_counts(tickets, entries)

            def ticket_rows():
                for n in range(tickets):
                    kind = "open" if n == 0 or n % 10 < 3 else ("waiting" if n % 10 == 3 else "closed")
                    estimate = 30 + (n * 37) % 600
                    yield {
                        "id": ticket_ids[n],
                        "number": n + 1,
                        "client": clients[n % CLIENTS]["id"],
                        "board": board.id,
                        "status": statuses[kind].id,
                        "status_kind": kind,
                        "priority": PRIORITIES[n % 5],
                        "summary": f"Bench ticket {n + 1}",
                        "assignee": member_ids[n % len(member_ids)] if n % 7 else None,
                        "estimate_minutes": estimate,
                        "spent_minutes": sum(_minutes(n, e) for e in range(counts[n])),
                        "created_at": now - dt.timedelta(minutes=tickets - n),
                        "updated_at": now,
                        "closed_at": now if kind == "closed" else None,
                    }

            def entry_rows():
                for n, count in enumerate(counts):
                    for e in range(count):
                        yield {
                            "ticket": ticket_ids[n],
                            "client_id": clients[n % CLIENTS]["id"],
                            "member": member_ids[(n + e) % len(member_ids)],
                            "started_at": now - dt.timedelta(hours=e + 1),
                            "minutes": _minutes(n, e),
                            "billing": ("billable", "no_charge", "non_billable")[e % 3],
                            "notes": "Called client. Left voicemail." if e % 2 else "Worked on it.",
                        }

            ticket_ids = [new_id() for _ in range(tickets)]
            for chunk in _batches(ticket_rows()):
                with db.proxy.atomic():
                    Ticket.insert_many(chunk).execute()
            for chunk in _batches(entry_rows()):
                with db.proxy.atomic():
                    TimeEntry.insert_many(chunk).execute()
            with db.proxy.atomic():
                Counter.insert_many(
                    [{"name": "ticket", "value": tickets}, {"name": "client", "value": CLIENTS}]
                ).execute()
        _create_baseline_table(db)
        _refresh_statistics(db)
    open_ids = [str(ticket_ids[n]) for n in range(1, tickets) if n % 10 < 3][:2000]
    return Seeded(
        tenant_id=str(tenant.id),
        token=token,
        client_ids=[str(c["id"]) for c in clients],
        member_ids=[str(m) for m in member_ids],
        open_ticket_ids=open_ids,
        big_ticket_id=str(ticket_ids[0]),
        tickets=tickets,
        entries=sum(counts),
        seconds=(dt.datetime.now() - started).total_seconds(),
    )


def _create_baseline_table(db) -> None:
    """The baseline app's one table: an INSERT per create, nothing else."""
    uuid_type = "uuid" if db.is_postgres else "text"
    db.proxy.execute_sql(
        f"CREATE TABLE IF NOT EXISTS bench_baseline (id {uuid_type} PRIMARY KEY, tenant_id {uuid_type} NOT NULL,"
        " summary varchar(200) NOT NULL, created_at timestamp NOT NULL)"
    )


def _refresh_statistics(db) -> None:
    """After a bulk load, what autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) does in a
    running system within minutes: planner statistics, and on PostgreSQL the visibility map that
    lets the backlog's covering index answer without reading the table (340 ms -> 40 ms for the
    backlog's sums at 100,000 tickets in EXPLAIN ANALYZE)."""
    db.proxy.execute_sql("VACUUM ANALYZE" if db.is_postgres else "ANALYZE")


def uuid_param(value: str, postgres: bool):
    """How peewee stores a UUID: native on PostgreSQL, 32 hex digits on SQLite."""
    return uuid.UUID(value) if postgres else uuid.UUID(value).hex
