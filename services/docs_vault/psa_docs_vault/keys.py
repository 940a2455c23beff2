"""Envelope keys: master keys (KEKs) from outside the database wrap per-tenant data keys (DEKs).

Master keys come from `PSA_VAULT_MASTER_KEYS` (`id:base64key,...`, the first one current) or from
`PSA_VAULT_MASTER_KEY_FILE` (same format); in embedded mode a key is generated on first start
under the keys directory (mode 0600). A master key never enters the database, a log or an event.
Each tenant holds versioned DEKs, stored only wrapped, with associated data binding the wrapped
key to its tenant, master key id and version, so a wrapped key copied elsewhere does not unwrap.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import peewee
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from psa_shared.config import Settings
from psa_shared.outbox import utcnow
from psa_shared.tenancy import current_tenant

from .database import Model, db, know_tenant

NONCE_BYTES = 12
KEY_BYTES = 32
CACHE_SECONDS = 300  # unwrapped DEKs stay in memory this long at most


class VaultKeyError(RuntimeError):
    """A key is missing or does not unwrap: fail closed, never fall back to plaintext."""


class MasterKeyMissing(VaultKeyError):
    pass


@dataclass(frozen=True)
class MasterKeys:
    """Every configured master key by id; the first configured is the one new wraps use."""

    current_id: str
    keys: dict[str, bytes]

    def __repr__(self) -> str:  # keys never reach a log through a repr
        return f"MasterKeys(current_id={self.current_id!r}, ids={sorted(self.keys)!r})"

    def key(self, kek_id: str) -> bytes:
        try:
            return self.keys[kek_id]
        except KeyError:
            raise MasterKeyMissing(f"master key {kek_id!r} is not configured") from None


def parse_master_keys(text: str) -> MasterKeys:
    """`id:base64key` entries separated by commas or new lines; the first is current."""
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for entry in text.replace("\n", ",").split(","):
        entry = entry.strip()
        if not entry:
            continue
        kek_id, sep, encoded = entry.partition(":")
        if not sep or not kek_id:
            raise MasterKeyMissing("master keys must read 'id:base64key'")
        try:
            raw = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error:
            raise MasterKeyMissing(f"master key {kek_id!r} is not valid base64") from None
        if len(raw) != KEY_BYTES:
            raise MasterKeyMissing(f"master key {kek_id!r} must be {KEY_BYTES} bytes")
        keys[kek_id] = raw
        order.append(kek_id)
    if not order:
        raise MasterKeyMissing("no master key configured")
    return MasterKeys(order[0], keys)


def generate_master_key_entry() -> str:
    return f"k{int(time.time())}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


def load_master_keys(settings: Settings) -> MasterKeys:
    """From the environment, a file, or (embedded mode only) a key generated on first start."""
    if value := settings.get("PSA_VAULT_MASTER_KEYS"):
        return parse_master_keys(value)
    if path := settings.get("PSA_VAULT_MASTER_KEY_FILE"):
        return parse_master_keys(Path(path).read_text())
    path = Path(settings.keys_dir) / "vault-master.key"
    if not path.exists():
        if not settings.embedded:
            raise MasterKeyMissing("set PSA_VAULT_MASTER_KEYS or PSA_VAULT_MASTER_KEY_FILE outside embedded mode")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(generate_master_key_entry() + "\n")
    return parse_master_keys(path.read_text())


class TenantKey(Model):
    """One version of a tenant's data key, wrapped by a master key (never stored in the clear)."""

    version = peewee.IntegerField()
    kek_id = peewee.CharField(max_length=64)
    wrapped = peewee.BlobField()
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("tenant_id", "version"), True),)


_master: MasterKeys | None = None
_cache: dict[tuple[uuid.UUID, int], tuple[bytes, float]] = {}
_lock = threading.Lock()


def configure(settings: Settings) -> MasterKeys:
    """Load the master keys for this process (the app factory and the CLI call this)."""
    global _master
    _master = load_master_keys(settings)
    drop_cache()
    return _master


def master() -> MasterKeys:
    if _master is None:
        raise MasterKeyMissing("the vault's master keys are not loaded")
    return _master


def drop_cache() -> None:
    with _lock:
        _cache.clear()


def on_key_rotated(event, payload: dict) -> None:
    """Every running server forgets unwrapped keys when a tenant's key rotates."""
    drop_cache()


def _wrap_aad(tenant_id, kek_id: str, version: int) -> bytes:
    return f"dek|{tenant_id}|{kek_id}|{version}".encode()


def wrap(tenant_id, version: int, dek: bytes, kek_id: str | None = None) -> tuple[str, bytes]:
    kek_id = kek_id or master().current_id
    nonce = os.urandom(NONCE_BYTES)
    return kek_id, nonce + AESGCM(master().key(kek_id)).encrypt(nonce, dek, _wrap_aad(tenant_id, kek_id, version))


def unwrap(tenant_id, version: int, kek_id: str, wrapped: bytes) -> bytes:
    try:
        return AESGCM(master().key(kek_id)).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(tenant_id, kek_id, version)
        )
    except InvalidTag:
        raise VaultKeyError(f"data key v{version} does not unwrap with master key {kek_id!r}") from None


def current_version() -> int | None:
    """Read every time (not cached), so a rotation elsewhere is seen by the next write."""
    return TenantKey.select(peewee.fn.MAX(TenantKey.version)).scalar()


def create_version() -> int:
    """A new data key version for the tenant in context; it becomes current at once."""
    tenant = current_tenant()
    version = (current_version() or 0) + 1
    dek = AESGCM.generate_key(bit_length=256)
    kek_id, wrapped = wrap(tenant, version, dek)
    with db.proxy.atomic():
        TenantKey.create(version=version, kek_id=kek_id, wrapped=wrapped)
        know_tenant(tenant)
    return version


def ensure_current() -> int:
    """The current version, creating version 1 on the tenant's first secret. Its key row stays
    locked (PostgreSQL) until the caller's transaction ends, so a rotation finishing meanwhile
    counts this write before it deletes the versions it replaced (`rotation.rotate_tenant`)."""
    newest = TenantKey.select(TenantKey.version).order_by(TenantKey.version.desc()).limit(1)
    row = db.locked(newest).first()
    if row is not None:
        return row.version
    try:
        return create_version()
    except peewee.IntegrityError:  # another process created it first
        return current_version()


def data_key(version: int) -> bytes:
    tenant = current_tenant()
    now = time.monotonic()
    with _lock:
        hit = _cache.get((tenant, version))
    if hit and hit[1] > now:
        return hit[0]
    row = TenantKey.get_or_none(TenantKey.version == version)
    if row is None:
        raise VaultKeyError(f"data key v{version} does not exist for this tenant")
    dek = unwrap(tenant, version, row.kek_id, bytes(row.wrapped))
    with _lock:
        _cache[(tenant, version)] = (dek, now + CACHE_SECONDS)
    return dek
