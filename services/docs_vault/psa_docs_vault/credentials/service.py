"""Credential rules: grant checks, encryption on write, and reveal/export with their audit rows.

Refusals (unknown id, another tenant's id, no grant, rate limit, missing permission) are written
to the actor's own chain and committed before the refusal is raised, so a 404 still leaves a trace.
A reveal's audit row commits with the reveal: if it cannot be written, no secret leaves.
"""

from __future__ import annotations

import uuid

from psa_shared.auth import Principal
from psa_shared.errors import Forbidden, NotFound, field_error
from psa_shared.events import utc_iso
from psa_shared.ids import new_id
from psa_shared.outbox import utcnow
from psa_shared.records import touch
from psa_shared.statements import Slot, Statement

from .. import audit, crypto, ratelimit
from ..audit import Context
from ..configurations.service import check_client
from ..database import db, emit
from ..projection import ClientRecord
from . import settings
from .models import Credential, CredentialChange

try:  # configurations ship with the vault; without them a configuration_id stays unvalidated
    from ..configurations.models import Configuration
except ImportError:  # pragma: no cover
    Configuration = None

SECRET = "secret"
METADATA = ("name", "username", "url", "notes", "configuration_id")


def visible(p: Principal):
    return p.within_grants(Credential.select(), Credential.client_id)


def get_visible(p: Principal, credential_id) -> Credential:
    row = Credential.get_or_none(Credential.id == credential_id)
    if row is None or not p.sees_client(row.client_id):
        raise NotFound("credential not found")
    return row


def check_configuration(configuration_id, client_id) -> None:
    """A credential may point at a configuration of the same client (in this tenant) only.

    Called inside the write's transaction: the configuration's row stays locked (PostgreSQL) until
    it commits, so a move of the configuration to another client waits and then refuses."""
    if configuration_id is None or Configuration is None:
        return
    found = db.locked(Configuration.select().where(Configuration.id == configuration_id)).first()
    if found is None or str(found.client_id) != str(client_id):
        raise field_error("configuration_id", "configuration not found for this client")


def _payload(row: Credential, secret_changed: bool) -> dict:
    return {
        "id": row.id,
        "client_id": row.client_id,
        "configuration_id": row.configuration_id,
        "name": row.name,
        "secret_changed": secret_changed,
        "changed_at": utc_iso(row.changed_at),
        "updated_at": utc_iso(row.updated_at),
    }


def _locked(credential_id) -> Credential:
    """The credential as committed, held until the caller's transaction ends (PostgreSQL), so two
    writers of it take turns and the later stamps, and sends, the later version."""
    row = db.locked(Credential.select().where(Credential.id == credential_id)).first()
    if row is None:  # deleted since it was found
        raise NotFound("credential not found")
    return row


_CREDENTIAL = Statement(lambda: Credential.select().where(Credential.id == Slot("id")))
# What a reveal reads with the credential, before any lock: the member's window and the rules.
_FOR_REVEAL = Statement(
    lambda: Credential.select(
        Credential, *ratelimit.window_columns(Slot("member"), Slot("since")), *settings.columns()
    ).where(Credential.id == Slot("id"))
)


def _find_for(
    p: Principal, ctx: Context, credential_id, action: str, permission: str, reason=None,
    statement: Statement = _CREDENTIAL, **values,
) -> Credential:  # fmt: skip
    """The credential the caller may act on (read by `statement`, whose other Slots `values`
    fill), or a denied row committed and the refusal raised."""
    if permission not in p.permissions:
        audit.denied(ctx, action, "forbidden", credential_id=credential_id, reason=reason)
        raise Forbidden(f"this action needs the '{permission}' permission")
    row = statement.first(id=credential_id, **values)
    if row is None:
        audit.denied(ctx, action, "not_found", credential_id=credential_id, reason=reason)
        raise NotFound("credential not found")
    if not p.sees_client(row.client_id):
        audit.denied(ctx, action, "no_grant", credential_id=credential_id, client_id=row.client_id, reason=reason)
        raise NotFound("credential not found")
    return row


def create(p: Principal, ctx: Context, data: dict) -> Credential:
    check_client(p, data["client_id"])
    row = Credential(id=new_id(), **{k: v for k, v in data.items() if k != SECRET})
    with db.proxy.atomic():
        check_configuration(data.get("configuration_id"), data["client_id"])
        row.key_version, row.secret_ct = crypto.encrypt_field(row.id, SECRET, data[SECRET])
        row.save(force_insert=True)
        CredentialChange.create(
            credential_id=row.id, actor_id=ctx.actor_id, fields=" ".join(sorted(data)), secret_changed=True
        )
        audit.append(ctx, "create", "allowed", client_id=row.client_id, credential_id=row.id)
        emit("credential.created", _payload(row, True))
    return row


def update(p: Principal, ctx: Context, credential_id, data: dict) -> Credential:
    """Change what `data` sets to something else. Sending `secret` is always a change: who typed it
    knows it, whatever it was before. Nothing else to change: no write, no audit row, no event."""
    _find_for(p, ctx, credential_id, "update", "vault:write")
    with db.proxy.atomic():
        row = _locked(credential_id)
        changed = sorted(name for name in METADATA if name in data and getattr(row, name) != data[name])
        secret_changed = SECRET in data
        if not (changed or secret_changed):
            return row
        if "configuration_id" in changed:
            check_configuration(data["configuration_id"], row.client_id)
        for name in changed:
            setattr(row, name, data[name])
        touch(row)
        if secret_changed:
            row.key_version, row.secret_ct = crypto.encrypt_field(row.id, SECRET, data[SECRET])
            row.changed_at = row.updated_at
            changed.append(SECRET)
        row.save()
        CredentialChange.create(  # at the change's own moment: the at-risk report compares it with `changed_at`
            credential_id=row.id,
            actor_id=ctx.actor_id,
            at=row.updated_at,
            fields=" ".join(sorted(changed)),
            secret_changed=secret_changed,
        )
        audit.append(ctx, "update", "allowed", client_id=row.client_id, credential_id=row.id)
        emit("credential.updated", _payload(row, secret_changed))
    return row


def delete(p: Principal, ctx: Context, credential_id) -> None:
    _find_for(p, ctx, credential_id, "delete", "vault:write")
    with db.proxy.atomic():
        row = _locked(credential_id)
        touch(row)  # the delete's moment: its event outranks the last edit's
        Credential.delete().where(Credential.id == row.id).execute()
        CredentialChange.create(credential_id=row.id, actor_id=ctx.actor_id, fields="deleted", secret_changed=True)
        audit.append(ctx, "delete", "allowed", client_id=row.client_id, credential_id=row.id)
        emit("credential.deleted", _payload(row, True))


def reveal(p: Principal, ctx: Context, credential_id: uuid.UUID, reason: str | None) -> str:
    """The secret, returned only once its audit row has committed with it.

    What needs no lock (rules, grant, decryption, the member's window count so far) happens
    first, read with the credential; then `ratelimit.admit` appends the row, or refuses past the
    limit with a denied row.
    """
    now = utcnow()
    row = _find_for(
        p, ctx, credential_id, "reveal", "vault:reveal", reason=reason, statement=_FOR_REVEAL, member=p.member_id,
        since=now - ratelimit.WINDOW,
    )  # fmt: skip
    rules = settings.from_columns(row)
    settings.check_reason(rules, reason)
    secret = crypto.decrypt_field(row.id, SECRET, row.key_version, row.secret_ct)
    ratelimit.admit(
        ctx, p.member_id, row, rules["reveal_limit_per_hour"], now, "reveal",
        credential_id=row.id, client_id=row.client_id, reason=reason,
    )  # fmt: skip
    return secret


def _may_export_client(p: Principal, ctx: Context, client_id) -> bool:
    """A client known to the vault and granted to the caller; else a denied row is committed
    (`not_found` or `no_grant`, like a refused reveal) and False returned."""
    known = ClientRecord.get_or_none(ClientRecord.id == client_id)
    if known is not None and p.sees_client(known.id):
        return True
    audit.denied(ctx, "export", "no_grant" if known else "not_found", client_id=client_id)
    return False


def export(p: Principal, ctx: Context, client_id=None) -> list[dict]:
    """Every visible credential with its secret (admins only), one audit row per credential."""
    if "vault:export" not in p.permissions:
        audit.denied(ctx, "export", "forbidden", client_id=None)
        raise Forbidden("this action needs the 'vault:export' permission")
    if client_id is not None and not _may_export_client(p, ctx, client_id):
        raise field_error("client_id", "client not found")
    with db.proxy.atomic():
        audit.start_chain()
        audit.lock_head()  # ordered against a deactivation's listing, as a reveal is (`ratelimit`)
        leaving = not ratelimit.still_active(p.member_id)
        items = [] if leaving else _exported(ctx, p, client_id)
    if leaving:
        ratelimit.refuse_leaver(ctx, "export", client_id=client_id)
    return items


def _exported(ctx: Context, p: Principal, client_id) -> list[dict]:
    """The export's items, each with its audit row appended (in the caller's transaction)."""
    query = visible(p)
    if client_id is not None:
        query = query.where(Credential.client_id == client_id)
    items = []
    for row in query.order_by(Credential.id):
        secret = crypto.decrypt_field(row.id, SECRET, row.key_version, row.secret_ct)
        audit.append(ctx, "export", "allowed", credential_id=row.id, client_id=row.client_id)
        items.append(
            {
                "id": row.id,
                "client_id": row.client_id,
                "configuration_id": row.configuration_id,
                "name": row.name,
                "username": row.username,
                "url": row.url,
                "secret": secret,
            }
        )
    return items
