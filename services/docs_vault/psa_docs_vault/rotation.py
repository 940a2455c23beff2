"""Key rotation jobs. Both are resumable: killed anywhere and run again, they finish the work.

- Master key: every wrapped data key not under the current master key is unwrapped and wrapped
  again (compare-and-swap on its old master key id). The data keys themselves do not change.
- Tenant key: a new data key version becomes current, then every credential still under an older
  version is re-encrypted, one compare-and-swap per row (a concurrent edit wins; it already wrote
  under the current version). Older versions stay readable until 0 rows remain on them; only then
  are they deleted and `vault.key_rotated` emitted.
"""

from __future__ import annotations

from dataclasses import dataclass

from psa_shared.tenancy import current_tenant

from . import crypto, keys
from .credentials.models import Credential
from .database import db, emit
from .keys import TenantKey

SECRET = "secret"


@dataclass
class Progress:
    done: int
    remaining: int


def rewrap_master() -> Progress:
    """Rewrap the tenant-in-context's data keys under the current master key."""
    tenant, current = current_tenant(), keys.master().current_id
    done = 0
    for row in TenantKey.select().where(TenantKey.kek_id != current).order_by(TenantKey.version):
        dek = keys.unwrap(tenant, row.version, row.kek_id, bytes(row.wrapped))
        kek_id, wrapped = keys.wrap(tenant, row.version, dek, current)
        with db.proxy.atomic():
            done += (
                TenantKey.update(kek_id=kek_id, wrapped=wrapped)
                .where((TenantKey.id == row.id) & (TenantKey.kek_id == row.kek_id))
                .execute()
            )
    remaining = TenantKey.select().where(TenantKey.kek_id != current).count()
    return Progress(done, remaining)


def _stale(target: int):
    return Credential.select().where(Credential.key_version < target)


def rotate_tenant(max_rows: int | None = None, batch: int = 200) -> Progress:
    """Re-encrypt the tenant-in-context's credentials under a new data key (or finish a rotation).

    `max_rows` stops early (the rest stays readable under its old version) for jobs run in slices.
    """
    target = keys.current_version()
    if target is None:
        return Progress(0, 0)  # nothing was ever encrypted for this tenant
    if not _stale(target).exists():
        target = keys.create_version()  # not resuming: start a new rotation
    done = 0
    while max_rows is None or done < max_rows:
        size = batch if max_rows is None else min(batch, max_rows - done)
        rows = list(_stale(target).order_by(Credential.id).limit(size))
        if not rows:
            break
        for row in rows:
            done += _reencrypt(row, target)
    with db.proxy.atomic():
        # A writer that took an old version as current holds its key row until it commits:
        # wait for it, so the count below sees its row.
        list(db.locked(TenantKey.select(TenantKey.id).where(TenantKey.version < target)))
        remaining = _stale(target).count()
        if remaining == 0:
            TenantKey.delete().where(TenantKey.version < target).execute()
            emit("vault.key_rotated", {"key_version": target})
    if remaining == 0:
        keys.drop_cache()
    return Progress(done, remaining)


def _reencrypt(row: Credential, target: int) -> int:
    secret = crypto.decrypt_field(row.id, SECRET, row.key_version, row.secret_ct)
    version, sealed = crypto.encrypt_field(row.id, SECRET, secret, target)
    with db.proxy.atomic():
        return (
            Credential.update(secret_ct=sealed, key_version=version)
            .where(
                (Credential.id == row.id)
                & (Credential.key_version == row.key_version)
                & (Credential.secret_ct == bytes(row.secret_ct))
            )
            .execute()
        )
