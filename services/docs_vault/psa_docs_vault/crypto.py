"""Field encryption: AES-256-GCM under the tenant's data key, each ciphertext bound to its place.

A stored value is `nonce || ciphertext+tag` with a random 12-byte nonce, and associated data
`v1|tenant|credential|record id|field|key version`: the same bytes copied to another record,
field or tenant (or relabelled with another key version) fail authentication instead of decrypting.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from psa_shared.tenancy import current_tenant

from . import keys

NONCE_BYTES = keys.NONCE_BYTES


class DecryptionFailed(RuntimeError):
    """The ciphertext does not belong here (moved, edited) or its key is gone. Never a partial value."""


def aad(tenant_id, record_id, field: str, version: int, kind: str = "credential") -> bytes:
    return f"v1|{tenant_id}|{kind}|{record_id}|{field}|{version}".encode()


def encrypt_field(record_id, field: str, plaintext: str, version: int | None = None) -> tuple[int, bytes]:
    """Encrypt under the tenant's current data key (or `version`); returns (version, stored bytes)."""
    version = version if version is not None else keys.ensure_current()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(keys.data_key(version)).encrypt(
        nonce, plaintext.encode(), aad(current_tenant(), record_id, field, version)
    )
    return version, nonce + sealed


def decrypt_field(record_id, field: str, version: int, stored: bytes) -> str:
    stored = bytes(stored)
    try:
        key = keys.data_key(version)
        plain = AESGCM(key).decrypt(
            stored[:NONCE_BYTES], stored[NONCE_BYTES:], aad(current_tenant(), record_id, field, version)
        )
    except (InvalidTag, keys.VaultKeyError):
        raise DecryptionFailed(f"{field} of record {record_id} does not decrypt here") from None
    return plain.decode()
