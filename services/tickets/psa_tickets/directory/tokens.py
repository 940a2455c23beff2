"""Signing in: passwords and API keys traded for short-lived access tokens, and token checks."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from psa_shared.auth import KeyRing, MemberView, Principal
from psa_shared.errors import NotFound, Unauthorized, field_error
from psa_shared.events import utc_iso
from psa_shared.outbox import utcnow
from psa_shared.tenancy import tenant_scope

from ..database import db, emit
from ..servicedesk import clock
from . import sign_in_limit
from .events import granted_client_ids
from .models import ApiKey, Member, directory_changed
from .passwords import check_password
from .snapshot import snapshot

KEY_PREFIX = "psa"


class DirectoryMember(MemberView):
    """A member as the directory has them: a token's API key is asked about by itself, exactly,
    since the directory keeps every key's `revoked_at` for good (no horizon to prune by)."""

    def refuses_key(self, key_id: uuid.UUID) -> bool:
        with tenant_scope(self.tenant_id):  # a request's own tenant again: its snapshot, not re-read
            return key_revoked(self.id, key_id)


def member_view(member: Member) -> DirectoryMember:
    return DirectoryMember(
        id=member.id,
        tenant_id=member.tenant_id,
        role=member.role,
        active=member.active,
        stamp=member.stamp,
        all_clients=member.all_clients,
        client_ids=frozenset(() if member.all_clients else granted_client_ids(member)),
    )


def lookup_member(tenant_id: uuid.UUID, member_id: uuid.UUID) -> MemberView | None:
    """The tickets service checks tokens against the directory itself: revocation is instant."""
    with tenant_scope(tenant_id):
        return known_member(member_id)


def known_member(member_id) -> MemberView | None:
    """A member of the tenant in context, active or not, as this generation has them."""
    return snapshot().get(("member", member_id), lambda: _load_view(member_id))


def _load_view(member_id) -> MemberView | None:
    member = Member.get_or_none(Member.id == member_id)
    return member_view(member) if member is not None else None


def key_revoked(member_id, key_id) -> bool:
    """Whether the member's API key `key_id` is revoked, or not theirs (fail closed), as this
    generation has it: revoking a key moves the generation, so the next request asks again."""
    return snapshot().get(("api_key_revoked", member_id, key_id), lambda: _load_key_revoked(member_id, key_id))


def _load_key_revoked(member_id, key_id) -> bool:
    key = ApiKey.select(ApiKey.revoked_at).where((ApiKey.id == key_id) & (ApiKey.member == member_id)).first()
    return key is None or key.revoked_at is not None


def login(keyring: KeyRing, tenant_id, email: str, password: str, ttl: int, attempt: sign_in_limit.Attempt) -> str:
    email = email.lower()
    with tenant_scope(tenant_id):
        counted = sign_in_limit.count_attempt(attempt, email)  # a locked-out account: 429 before the slow check
        member = Member.get_or_none(Member.email == email)
        if not check_password(member.password_hash if member else None, password) or not member.active:
            sign_in_limit.prune(attempt)
            raise Unauthorized("wrong tenant, email or password")
        sign_in_limit.forgive(counted)
        return keyring.mint(member_view(member), ttl)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(principal: Principal, name: str, scopes: list[str] | None) -> tuple[ApiKey, str]:
    """Returns the row and the key itself, which is shown this once and never stored. A caller
    signed in with a scoped key makes keys within those scopes only, never one wider than itself."""
    if scopes is None and principal.scopes is not None:
        raise field_error("scopes", "list the scopes: a scoped key cannot make a key with its role's permissions")
    if scopes is not None and (unknown := set(scopes) - principal.permissions):
        raise field_error("scopes", f"not a permission of yours: {sorted(unknown)[0]}")
    key = f"{KEY_PREFIX}_{principal.tenant_id.hex}_{secrets.token_urlsafe(32)}"
    with db.proxy.atomic():
        row = ApiKey.create(
            member=principal.member_id,
            name=name,
            secret_hash=_hash(key),
            scopes=" ".join(sorted(scopes)) if scopes is not None else None,
        )
    return row, key


def exchange_api_key(keyring: KeyRing, key: str, ttl: int) -> str:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise Unauthorized("invalid API key")
    try:
        tenant_id = uuid.UUID(hex=parts[1])
    except ValueError:
        raise Unauthorized("invalid API key") from None
    with tenant_scope(tenant_id):
        row = ApiKey.get_or_none(ApiKey.secret_hash == _hash(key))
        if row is None or not row.member.active or not _used_unrevoked(row):
            raise Unauthorized("invalid API key")
        scopes = row.scopes.split() if row.scopes is not None else None
        return keyring.mint(member_view(row.member), ttl, scopes=scopes, key_id=row.id)


def _used_unrevoked(row: ApiKey) -> bool:
    """Stamp the key used if it is still unrevoked: the UPDATE's own condition decides, so a
    revocation committed while the exchange waited for the row mints nothing."""
    unrevoked = (ApiKey.id == row.id) & ApiKey.revoked_at.is_null()
    return bool(ApiKey.update(last_used_at=utcnow()).where(unrevoked).execute())


def member_keys(principal: Principal, member_id: uuid.UUID | None = None):
    """The caller's own keys, or with `member:write` another member's: after a stolen password the
    admin finds the keys the intruder made with it, which outlive the password's reset."""
    if member_id is not None and member_id != principal.member_id:
        principal.require("member:write")
        if not Member.select().where(Member.id == member_id).exists():  # the tenant's: another's is nobody here
            raise NotFound("member not found")
    return ApiKey.select().where(ApiKey.member == (member_id or principal.member_id))


def revoke_api_key(principal: Principal, key_id) -> ApiKey:
    """Tokens already traded for the key die with it: here from the next request (the directory's
    generation moves), in other services when `api_key.revoked` reaches them."""
    with db.proxy.atomic():
        row = ApiKey.get_or_none(ApiKey.id == key_id)
        if row is None or (row.member_id != principal.member_id and "member:write" not in principal.permissions):
            raise NotFound("API key not found")
        revoked_at = clock.now()
        if ApiKey.update(revoked_at=revoked_at).where((ApiKey.id == row.id) & ApiKey.revoked_at.is_null()).execute():
            row.revoked_at = revoked_at
            directory_changed()
            emit("api_key.revoked", {"id": row.id, "member_id": row.member_id, "revoked_at": utc_iso(revoked_at)})
        else:
            row = ApiKey.get(ApiKey.id == row.id)  # revoked already, maybe a moment ago by another request
    return row
