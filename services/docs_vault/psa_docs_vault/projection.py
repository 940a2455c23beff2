"""What the vault knows of members, grants and clients: a projection fed by the tickets service's
events. It decides access here; a member it does not know yet is refused (fail closed)."""

from __future__ import annotations

import datetime as dt
import uuid

import peewee

from psa_shared.auth import MemberView, revocation_horizon
from psa_shared.config import Settings
from psa_shared.outbox import utcnow
from psa_shared.projection import apply_newer
from psa_shared.statements import Slot, Statement
from psa_shared.tenancy import tenant_scope

from . import database
from .database import Model


class MemberRecord(Model):
    """A member as of their latest event (`id` is the tickets service's member id)."""

    email = peewee.CharField(max_length=254)
    name = peewee.CharField(max_length=200)
    role = peewee.CharField(max_length=20)
    active = peewee.BooleanField()
    stamp = peewee.CharField(max_length=32)
    all_clients = peewee.BooleanField()
    client_ids = peewee.TextField(default="")  # space-separated UUIDs
    updated_at = peewee.DateTimeField()


class RevokedKeyRecord(Model):
    """An API key revoked (`id` is the tickets service's key id): tokens naming it are refused
    until every one of them has expired, then the record is pruned (`prune_revoked_keys`)."""

    member_id = peewee.UUIDField()
    revoked_at = peewee.DateTimeField()  # as the tickets service stamped it

    class Meta:
        indexes = ((("tenant_id", "member_id"), False),)


class ClientRecord(Model):
    name = peewee.CharField(max_length=200)
    number = peewee.IntegerField()
    active = peewee.BooleanField()
    updated_at = peewee.DateTimeField()


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC).replace(tzinfo=None)


def on_member(event, payload: dict) -> None:
    fields = {k: payload[k] for k in ("email", "name", "role", "active", "stamp", "all_clients")}
    fields["client_ids"] = " ".join(str(c) for c in payload["client_ids"])
    apply_newer(MemberRecord, payload["id"], _moment(payload["updated_at"]), fields)


def revocation_handler(horizon: dt.timedelta):
    """`api_key.revoked`'s handler: records the key, and prunes the tenant's records revoked more
    than `horizon` (`psa_shared.auth.revocation_horizon`) before it, whose tokens have all expired."""

    def on_api_key_revoked(event, payload: dict) -> None:
        """A redelivery, or one arriving before its member, inserts nothing new."""
        revoked_at = _moment(payload["revoked_at"])
        record = {"id": payload["id"], "member_id": payload["member_id"], "revoked_at": revoked_at}
        RevokedKeyRecord.insert(record).on_conflict_ignore().execute()
        prune_revoked_keys(revoked_at - horizon)

    return on_api_key_revoked


def add_revoked_at() -> None:
    """Vaults made before records had `revoked_at` get it, their records stamped with the time of
    the upgrade: each is then kept one horizon more, never less than its tokens live."""
    table = RevokedKeyRecord._meta.table_name
    upgraded = utcnow().isoformat(sep=" ")
    db = database.db
    with db.proxy.atomic():  # on SQLite the writers' turn: two workers starting at once add it once
        if "revoked_at" in {column.name for column in db.proxy.get_columns(table)}:
            return
        # PostgreSQL's ADD takes its table's lock only now, and IF NOT EXISTS settles a race with another worker
        add = "ADD COLUMN IF NOT EXISTS revoked_at TIMESTAMP" if db.is_postgres else "ADD COLUMN revoked_at DATETIME"
        db.proxy.execute_sql(f"ALTER TABLE \"{table}\" {add} NOT NULL DEFAULT '{upgraded}'")


def prune_revoked_keys(before: dt.datetime) -> int:
    """Forget the tenant in context's keys revoked before `before`; how many. Measured against the
    tickets service's own stamps (the newest revocation's time), so the vault's clock plays no part."""
    return RevokedKeyRecord.delete().where(RevokedKeyRecord.revoked_at < before).execute()


def on_client(event, payload: dict) -> None:
    fields = {k: payload[k] for k in ("name", "number", "active")}
    apply_newer(ClientRecord, payload["id"], _moment(payload["updated_at"]), fields)


HANDLERS = {
    "member.created": on_member,
    "member.updated": on_member,
    "member.deactivated": on_member,
    "member.grants_changed": on_member,
    "client.created": on_client,
    "client.updated": on_client,
}


def handlers(settings: Settings) -> dict:
    return {**HANDLERS, "api_key.revoked": revocation_handler(revocation_horizon(settings))}


# One query per request: the member's row, once per key of theirs revoked (a LEFT JOIN).
_MEMBER = Statement(
    lambda: (
        MemberRecord.select(MemberRecord, RevokedKeyRecord.id.alias("revoked_key"))
        .join(
            RevokedKeyRecord,
            peewee.JOIN.LEFT_OUTER,
            on=(RevokedKeyRecord.member_id == MemberRecord.id) & (RevokedKeyRecord.tenant_id == MemberRecord.tenant_id),
        )
        .where(MemberRecord.id == Slot("id"))
        .objects()
    )
)


def lookup_member(tenant_id: uuid.UUID, member_id: uuid.UUID) -> MemberView | None:
    with tenant_scope(tenant_id):
        rows = _MEMBER.models(id=member_id)
        if not rows:
            return None
        record = rows[0]
        return MemberView(
            id=record.id,
            tenant_id=record.tenant_id,
            role=record.role,
            active=record.active,
            stamp=record.stamp,
            all_clients=record.all_clients,
            client_ids=frozenset(uuid.UUID(c) for c in record.client_ids.split()),
            revoked_keys=frozenset(uuid.UUID(str(row.revoked_key)) for row in rows if row.revoked_key is not None),
        )
