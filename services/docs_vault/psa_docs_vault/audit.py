"""The vault's audit log: append-only, hash-chained per tenant, with the chain head kept apart.

Each row's hash is sha256 over the previous row's hash and the row's canonical JSON; the head
(last hash and row count) lives in its own table and moves with the append, by a trigger on the
INSERT itself. `verify` recomputes the chain, so an edited row, a deleted row (a gap) or a cut
tail (fewer rows than the head counts) is detected. Writes serialise per tenant on the head row.

An append is one INSERT that reads the locked head itself: its `seq`, `prev_hash` and `hash`
(sha256 in SQL, `psa_sha256`, over the same text `row_hash` hashes) come from the head inside the
database. So the head is held only while the database runs the INSERT and commits, never across
a round trip to the (busy) process that asked: a reveal's lock, INSERT and COMMIT reach
PostgreSQL as one message.

The row's id is worked out there too (`psa_audit_id`): the one the process made before the lock,
or, if the chain's last row (`AuditHead.last_id`) has a later one, just past it. Ids follow `seq`,
so a list newest first by id is the chain's order, and a reader who saw an id sees every row
committed after it above it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import uuid
from dataclasses import dataclass, field

import peewee

from psa_shared import tenancy, web
from psa_shared.ids import new_id
from psa_shared.outbox import utcnow
from psa_shared.statements import Slot, Statement

from .database import Model, db, know_tenant, sha256_hex

GENESIS = "0" * 64
ACTIONS = ("reveal", "download", "export", "create", "update", "delete", "settings")


class AuditRow(Model):
    seq = peewee.BigIntegerField()
    at = peewee.DateTimeField()
    actor_id = peewee.UUIDField(null=True)
    action = peewee.CharField(max_length=20)
    outcome = peewee.CharField(max_length=10)  # allowed | denied
    detail = peewee.CharField(max_length=40, null=True)  # why denied: not_found, no_grant, rate_limited, ...
    client_id = peewee.UUIDField(null=True)
    credential_id = peewee.UUIDField(null=True)
    attachment_id = peewee.UUIDField(null=True)  # a configuration's file downloaded (since 2026-11-28)
    reason = peewee.CharField(max_length=500, null=True)
    address = peewee.CharField(max_length=64, null=True)
    request_id = peewee.CharField(max_length=64, null=True)
    prev_hash = peewee.CharField(max_length=64)
    hash = peewee.CharField(max_length=64)

    class Meta:
        table_name = "vault_audit"
        indexes = (
            (("tenant_id", "seq"), True),
            (("tenant_id", "actor_id", "action", "outcome", "at"), False),  # the rate-limit count
            (("tenant_id", "credential_id"), False),
        )


class AuditHead(Model):
    """One row per tenant (`id` is the tenant id): the chain's checkpoint."""

    count = peewee.BigIntegerField(default=0)
    last_hash = peewee.CharField(max_length=64, default=GENESIS)
    last_id = peewee.UUIDField(null=True)  # the last row's; a head from before 2026-11-28 learns it at its next row
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "vault_audit_head"


CHAINED = (
    "tenant_id",
    "seq",
    "at",
    "actor_id",
    "action",
    "outcome",
    "detail",
    "client_id",
    "credential_id",
    "attachment_id",
    "reason",
    "address",
    "request_id",
)


def _plain(value):
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, int):
        return value
    return str(value)


def _canonical(values: dict) -> str:
    plain = {k: _plain(values.get(k)) for k in CHAINED}
    if plain["attachment_id"] is None:  # rows from before the column hash as they were written
        del plain["attachment_id"]
    return json.dumps(plain, sort_keys=True, separators=(",", ":"))


def row_hash(prev_hash: str, values: dict) -> str:
    return sha256_hex(f"{prev_hash}|{_canonical(values)}")


def _around_seq(values: dict) -> tuple[str, str]:
    """The row's canonical JSON on either side of its `seq`, which the INSERT reads from the head.
    Unambiguous: inside a JSON string every quote is escaped, so `"seq":` appears once, as the key."""
    before, after = _canonical({**values, "seq": 0}).split('"seq":0', 1)
    return before + '"seq":', after


def _head():
    return AuditHead.select(AuditHead.id).where(AuditHead.id == tenancy.current_tenant())


_LOCK_HEAD = Statement(lambda: _head().for_update())
# Every chained column but those the head gives (tenant, seq): bound from Python.
_GIVEN = [getattr(AuditRow, name) for name in CHAINED if name not in ("tenant_id", "seq")]


def append_from_head(condition=None, lock: bool = True) -> peewee.Insert:
    """INSERT ... SELECT from the tenant's head: the new row's seq, prev_hash and hash worked out
    from the head as the database holds it when the INSERT runs, and its id after the last row's.
    `lock`: the INSERT locks the head itself (on PostgreSQL a statement that waited for the lock
    reads the locked row as committed meanwhile, `last_id` too; a `condition` counting other rows
    must run after a separate lock)."""
    seq = AuditHead.count + 1
    text = AuditHead.last_hash.concat("|").concat(Slot("before")).concat(peewee.Cast(seq, "TEXT")).concat(Slot("after"))
    row_id = peewee.fn.psa_audit_id(Slot("id", AuditRow.id.db_value), AuditHead.last_id)
    source = AuditHead.select(
        AuditHead.id, seq, AuditHead.last_hash, peewee.fn.psa_sha256(text), row_id,
        *(Slot(f.name, f.db_value) for f in _GIVEN),
    ).where(AuditHead.id == tenancy.current_tenant())  # fmt: skip
    if condition is not None:
        source = source.where(condition)
    columns = [AuditRow.tenant_id, AuditRow.seq, AuditRow.prev_hash, AuditRow.hash, AuditRow.id, *_GIVEN]
    return AuditRow.insert_from(db.locked(source) if lock else source, columns).returning(AuditRow.seq)


# Built once: the head's lock is held while it runs, not while SQL is built, and every append queues on it.
_APPEND = Statement(append_from_head)


def start_chain() -> None:
    """The tenant's head, made if this is its first row (an append needs one to read)."""
    AuditHead.insert(id=tenancy.current_tenant()).on_conflict_ignore().execute()
    know_tenant(tenancy.current_tenant())


def lock_head() -> None:
    """Hold the tenant's head (if it has one yet) until commit, so appends and what is decided
    before them (a rate-limit count, a burst already reported) serialise. Inside
    `db.atomic_writes()` on PostgreSQL it waits to be sent with the block's other statements.

    On PostgreSQL a statement sees the rows committed while it waited for the lock only in the
    locked row itself: whatever must count them is read by a later statement. SQLite needs no
    lock: its transactions begin IMMEDIATE, holding the whole database.
    """
    if db.is_postgres:
        _LOCK_HEAD.run()


@dataclass
class Context:
    """Who is asking and from where, captured once per request."""

    actor_id: uuid.UUID | None
    address: str | None = None
    request_id: str | None = None
    extra: dict = field(default_factory=dict)


def client_address() -> str | None:
    """Who asked, for the audit row (`psa_shared.web.client_address`), "invalid" when malformed."""
    return _valid(web.client_address())


def _valid(address: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return "invalid"


def request_context(actor_id) -> Context:
    return Context(actor_id=actor_id, address=client_address(), request_id=tenancy.correlation_id.get())


def row_values(ctx: Context, action: str, outcome: str, **values) -> dict:
    """The Slots of an append (`append_from_head`) for one row. Its `id` is only a candidate: made
    before the lock, it may be older than a row appended while this one waited."""
    row = {
        "tenant_id": tenancy.current_tenant(),
        "id": new_id(),
        "at": utcnow(),
        "actor_id": ctx.actor_id,
        "action": action,
        "outcome": outcome,
        "detail": values.get("detail"),
        "client_id": values.get("client_id"),
        "credential_id": values.get("credential_id"),
        "attachment_id": values.get("attachment_id"),
        "reason": values.get("reason"),
        "address": ctx.address,
        "request_id": (ctx.request_id or "")[:64] or None,
    }
    row["before"], row["after"] = _around_seq(row)
    del row["tenant_id"]  # the head's
    return row


def append(ctx: Context, action: str, outcome: str, **values) -> int:
    """Append one row to the tenant's chain, inside the change's transaction; its seq."""
    if not db.proxy.in_transaction():
        raise RuntimeError("audit rows are written inside the change's transaction")
    row = row_values(ctx, action, outcome, **values)
    appended = _APPEND.cursor(**row).fetchone()
    if appended is None:  # the tenant's first row
        start_chain()
        appended = _APPEND.cursor(**row).fetchone()
    return appended[0]


def denied(ctx: Context, action: str, detail: str, **values) -> None:
    """A refused attempt, committed on its own: the caller raises the refusal afterwards."""
    with db.proxy.atomic():
        append(ctx, action, "denied", detail=detail, **values)


@dataclass
class Verdict:
    tenant_id: uuid.UUID
    rows: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify() -> Verdict:
    """Recompute the tenant-in-context's chain and compare it with its head."""
    tenant = tenancy.current_tenant()
    problems: list[str] = []
    prev, expected_seq, count = GENESIS, 1, 0
    for row in AuditRow.select().order_by(AuditRow.seq).iterator():
        count += 1
        values = {k: getattr(row, k) for k in CHAINED}
        if row.seq != expected_seq:
            problems.append(f"gap: expected row {expected_seq}, found {row.seq}")
        if row.prev_hash != prev:
            problems.append(f"row {row.seq}: does not follow the row before it")
        if row_hash(row.prev_hash, values) != row.hash:
            problems.append(f"row {row.seq}: content does not match its hash (edited)")
        prev, expected_seq = row.hash, row.seq + 1
    head = AuditHead.get_or_none(AuditHead.id == tenant)
    head_count, head_hash = (head.count, head.last_hash) if head else (0, GENESIS)
    if head_count != count:
        problems.append(f"head counts {head_count} rows, the chain has {count} (rows cut or added)")
    if head_hash != prev:
        problems.append("head hash does not match the last row (tail cut or replaced)")
    return Verdict(tenant, count, problems)


GUARD_FUNCTION = """CREATE OR REPLACE FUNCTION psa_vault_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the vault audit log is append-only'; END $$"""

SHA256_FUNCTION = """CREATE OR REPLACE FUNCTION psa_sha256(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex') $$"""

# `database.later_id` in SQL: `made`, or its 48-bit millisecond moved to the one after `last`'s
AUDIT_ID_FUNCTION = """CREATE OR REPLACE FUNCTION psa_audit_id(made uuid, last uuid) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN last IS NULL OR made > last THEN made ELSE
  (lpad(to_hex(('x' || left(replace(last::text, '-', ''), 12))::bit(48)::bigint + 1), 12, '0')
   || substr(replace(made::text, '-', ''), 13))::uuid END $$"""

HEAD_FUNCTION = """CREATE OR REPLACE FUNCTION psa_vault_audit_moves_head() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN
  UPDATE "{head}" SET count = NEW.seq, last_hash = NEW.hash, last_id = NEW.id, updated_at = NEW.at
  WHERE id = NEW.tenant_id;
  RETURN NULL;
END $$"""


def install_guards() -> None:
    """Triggers on the audit table: the head moves with every INSERT, UPDATE (and, on PostgreSQL,
    DELETE) of audit rows is refused in the database itself.

    The service installs them when it binds, before any row can be appended. The hash chain
    detects tampering; the refusal stops the casual kind from the application's own connection.
    Someone allowed to disable triggers is caught by `verify-audit` instead. SQLite keeps DELETE
    possible, since test fixtures empty its tables with DELETE.

    On PostgreSQL the functions are replaced at every start (that locks no table), a trigger is
    created only where it is missing: creating or replacing one locks the audit table against
    the reveals appending to it while a worker starts. A trigger whose definition changes takes
    a new name.
    """
    table, head = AuditRow._meta.table_name, AuditHead._meta.table_name
    with db.proxy.connection_context(), db.proxy.atomic():
        if db.is_postgres:
            # Workers start together; concurrent CREATE OR REPLACE of one function can fail otherwise.
            db.proxy.execute_sql("SELECT pg_advisory_xact_lock(hashtext('psa_vault_audit_guard'))")
            db.proxy.execute_sql(GUARD_FUNCTION)
            db.proxy.execute_sql(SHA256_FUNCTION)
            db.proxy.execute_sql(AUDIT_ID_FUNCTION)
            db.proxy.execute_sql(HEAD_FUNCTION.format(head=head))
            present = {name for (name,) in db.proxy.execute_sql(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", (f'"{table}"',)
            ).fetchall()}  # fmt: skip
            for name, timing, function in (
                (f"{table}_append_only", "BEFORE UPDATE OR DELETE", "psa_vault_audit_append_only"),
                (f"{table}_moves_head", "AFTER INSERT", "psa_vault_audit_moves_head"),
            ):
                if name not in present:
                    db.proxy.execute_sql(
                        f'CREATE TRIGGER "{name}" {timing} ON "{table}" FOR EACH ROW EXECUTE FUNCTION {function}()'
                    )
        else:
            db.proxy.execute_sql(
                f'CREATE TRIGGER IF NOT EXISTS "{table}_append_only" BEFORE UPDATE ON "{table}" '
                "BEGIN SELECT RAISE(ABORT, 'the vault audit log is append-only'); END"
            )
            db.proxy.execute_sql(f'DROP TRIGGER IF EXISTS "{table}_moves_head"')  # before `last_id`
            db.proxy.execute_sql(
                f'CREATE TRIGGER IF NOT EXISTS "{table}_moves_head_and_id" AFTER INSERT ON "{table}" BEGIN '
                f'UPDATE "{head}" SET count = NEW.seq, last_hash = NEW.hash, last_id = NEW.id, updated_at = NEW.at '
                "WHERE id = NEW.tenant_id; END"
            )
