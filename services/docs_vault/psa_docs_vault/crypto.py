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


# Attachments: each file has its own random AES-256 key, wrapped by the current master key (not
# a tenant data key, whose old versions tenant rotation deletes) with associated data binding it
# to tenant, attachment and master key id. The file is cut into chunks, each AES-GCM with a random
# nonce and its index and last-chunk flag in the associated data, so chunks moved, reordered, cut
# off or copied into another file fail authentication. Rewrapping under a new master key changes
# only the wrapped key; the chunks stay as they are.

FILE_KEY_BYTES = keys.KEY_BYTES
WRAPPED_FILE_KEY_BYTES = NONCE_BYTES + FILE_KEY_BYTES + 16  # nonce, key, GCM tag
CHUNK_OVERHEAD = NONCE_BYTES + 16


def _file_key_aad(tenant_id, attachment_id, kek_id: str) -> bytes:
    return f"attachment-key|v1|{tenant_id}|{attachment_id}|{kek_id}".encode()


def _chunk_aad(tenant_id, attachment_id, index: int, last: bool) -> bytes:
    return f"attachment|v1|{tenant_id}|{attachment_id}|{index}|{'last' if last else 'more'}".encode()


def new_file_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap_file_key(tenant_id, attachment_id, file_key: bytes, kek_id: str | None = None) -> tuple[str, bytes]:
    """The file key sealed under the current master key (or `kek_id`); returns (kek id, wrapped)."""
    kek_id = kek_id or keys.master().current_id
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(keys.master().key(kek_id)).encrypt(nonce, file_key, _file_key_aad(tenant_id, attachment_id, kek_id))
    return kek_id, nonce + sealed


def unwrap_file_key(tenant_id, attachment_id, kek_id: str, wrapped: bytes) -> bytes:
    try:
        return AESGCM(keys.master().key(kek_id)).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _file_key_aad(tenant_id, attachment_id, kek_id)
        )
    except (InvalidTag, keys.VaultKeyError):
        raise DecryptionFailed(f"the key of attachment {attachment_id} does not unwrap here") from None


def seal_chunk(file_key: bytes, tenant_id, attachment_id, index: int, last: bool, plain: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(file_key).encrypt(nonce, plain, _chunk_aad(tenant_id, attachment_id, index, last))


def open_chunk(file_key: bytes, tenant_id, attachment_id, index: int, last: bool, sealed: bytes) -> bytes:
    if len(sealed) < CHUNK_OVERHEAD:  # cut short: too little left to hold a nonce and a tag
        raise DecryptionFailed(f"chunk {index} of attachment {attachment_id} is truncated")
    try:
        return AESGCM(file_key).decrypt(
            sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _chunk_aad(tenant_id, attachment_id, index, last)
        )
    except InvalidTag:
        raise DecryptionFailed(f"chunk {index} of attachment {attachment_id} does not decrypt here") from None
