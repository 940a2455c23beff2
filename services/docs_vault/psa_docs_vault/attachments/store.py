"""Where attachment bytes live: a pluggable store, a local folder by default, always sealed.

The database holds the metadata and the SHA-256 of the plaintext; a store only keeps bytes under
keys it is given (`<tenant>/<attachment id>`), so a client's filename never becomes a path.
`SealedStore` wraps whichever store is plugged in, so what reaches it is ciphertext
(`crypto.seal_chunk`): `MAGIC`, the master key id, the file key wrapped by that master key, then
chunks of `SEALED_CHUNK` plaintext bytes, each `nonce || ciphertext+tag`. A file without `MAGIC`
was written before attachments were encrypted and is read as plaintext (its checksum still guards
it) until `psa vault seal-attachments` seals it.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from itertools import chain
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

from psa_shared.config import Settings
from psa_shared.ids import is_uuid

from .. import crypto, keys

CHUNK = 64 * 1024
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_KEY = re.compile(r"^[0-9a-f-]{36}/[0-9a-f-]{36}$")
MAGIC = b"\x89PSA-E1\n"  # not text, so no plaintext file written before sealing starts with it
SEALED_CHUNK = 64 * 1024  # part of the file format: a new size needs a new MAGIC


class TooLarge(Exception):
    """The stream went past the size limit; nothing was kept."""


class AttachmentStore(Protocol):
    """What the vault needs of a place to keep attachment bytes."""

    def put(self, key: str, stream: BinaryIO, max_bytes: int) -> tuple[int, str]:
        """Keep the stream's bytes under `key`; returns (size, sha256 hex). Raises TooLarge past max_bytes."""

    def open(self, key: str) -> BinaryIO:
        """The bytes kept under `key`, for reading. Raises FileNotFoundError when gone."""

    def delete(self, key: str) -> None:
        """Forget `key`; a missing key is not an error."""


def attachment_key(tenant_id, attachment_id) -> str:
    return f"{uuid.UUID(str(tenant_id))}/{uuid.UUID(str(attachment_id))}"


class LocalFolderStore:
    """Files under one folder, one sub-folder per tenant, written to a temporary name then renamed."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):  # keys are ids we made; anything else is a bug, never a path
            raise ValueError("invalid attachment key")
        return self.root / key

    def _private_folder(self, folder: Path) -> None:
        """The root and the tenant's folder, owner-only (0700) whatever the umask. A root that
        already exists is left as it is (it may be a mount we do not own); a tenant folder is ours."""
        try:
            self.root.mkdir(mode=0o700, parents=True)
            os.chmod(self.root, 0o700)
        except FileExistsError:
            pass
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)  # also tightens a folder made 0755 before this rule

    def put(self, key: str, stream: BinaryIO, max_bytes: int) -> tuple[int, str]:
        path = self._path(key)
        self._private_folder(path.parent)
        partial = path.with_suffix(".part")
        digest, size = hashlib.sha256(), 0
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            os.fchmod(fd, 0o600)  # the umask may have taken bits away; a stale .part may be 0644
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        return size, digest.hexdigest()

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def tenant_ids(self) -> list[uuid.UUID]:
        """Tenants with a folder here, for maintenance commands that must not miss one."""
        if not self.root.is_dir():
            return []
        return sorted(uuid.UUID(p.name) for p in self.root.iterdir() if p.is_dir() and is_uuid(p.name))


def _read_full(stream: BinaryIO, size: int) -> bytes:
    """Exactly `size` bytes, or fewer only at the end: a socket may hand out less per read."""
    parts, left = [], size
    while left > 0 and (part := stream.read(left)):
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


class _PieceStream(io.RawIOBase):
    """A readable stream over an iterator of byte strings; closing it runs `on_close`."""

    def __init__(self, pieces: Iterator[bytes], on_close: Callable[[], None] = lambda: None):
        self._pieces, self._left, self._on_close = pieces, b"", on_close

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._left:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._left = piece
        size = min(len(buffer), len(self._left))
        buffer[:size], self._left = self._left[:size], self._left[size:]
        return size

    def close(self) -> None:
        if not self.closed:
            self._on_close()
        super().close()


def _ids(key: str) -> tuple[str, str]:
    tenant_id, _, attachment_id = key.partition("/")
    return tenant_id, attachment_id


def _header(kek_id: str, wrapped: bytes) -> bytes:
    name = kek_id.encode()
    return MAGIC + bytes([len(name)]) + name + wrapped


def _read_header(raw: BinaryIO) -> tuple[str, bytes]:
    """(master key id, wrapped file key) after MAGIC; a short header is damage, not plaintext."""
    length = _read_full(raw, 1)
    name = _read_full(raw, length[0]) if length else b""
    wrapped = _read_full(raw, crypto.WRAPPED_FILE_KEY_BYTES)
    if not length or len(name) != length[0] or len(wrapped) != crypto.WRAPPED_FILE_KEY_BYTES:
        raise crypto.DecryptionFailed("the attachment's header is truncated")
    return name.decode(), wrapped


def sealed_bound(max_bytes: int) -> int:
    """The most a sealed file of `max_bytes` plaintext can take: header and per-chunk overhead."""
    header = len(MAGIC) + 1 + 255 + crypto.WRAPPED_FILE_KEY_BYTES
    return header + max_bytes + (max_bytes // SEALED_CHUNK + 1) * crypto.CHUNK_OVERHEAD


class _Sealer:
    """Reads plaintext, counts and hashes it (the database keeps the plaintext's SHA-256) and
    yields the sealed file: header, then chunks, the last one flagged so a cut file fails."""

    def __init__(self, stream: BinaryIO, key: str, max_bytes: int):
        self.stream, self.key, self.max_bytes = stream, key, max_bytes
        self.size, self.digest = 0, hashlib.sha256()

    def _next_plain(self) -> bytes:
        chunk = _read_full(self.stream, SEALED_CHUNK)
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise TooLarge(self.max_bytes)
        self.digest.update(chunk)
        return chunk

    def pieces(self) -> Iterator[bytes]:
        tenant_id, attachment_id = _ids(self.key)
        file_key = crypto.new_file_key()
        yield _header(*crypto.wrap_file_key(tenant_id, attachment_id, file_key))
        chunk, index = self._next_plain(), 0
        while True:
            following = self._next_plain() if len(chunk) == SEALED_CHUNK else b""
            last = not following
            yield crypto.seal_chunk(file_key, tenant_id, attachment_id, index, last, chunk)
            if last:
                return
            chunk, index = following, index + 1


def _opened_chunks(raw: BinaryIO, key: str, file_key: bytes) -> Iterator[bytes]:
    """The plaintext, one authenticated chunk at a time: nothing unverified is ever handed out."""
    tenant_id, attachment_id = _ids(key)
    size = SEALED_CHUNK + crypto.CHUNK_OVERHEAD
    chunk, index = _read_full(raw, size), 0
    while True:
        following = _read_full(raw, size) if len(chunk) == size else b""
        last = not following
        yield crypto.open_chunk(file_key, tenant_id, attachment_id, index, last, chunk)
        if last:
            return
        chunk, index = following, index + 1


class SealedStore:
    """Any `AttachmentStore`, with the bytes encrypted before they reach it and decrypted on the
    way out. `put` and `open` keep the store's contract: plaintext size, SHA-256 and bytes."""

    def __init__(self, inner: AttachmentStore):
        self.inner = inner

    def put(self, key: str, stream: BinaryIO, max_bytes: int) -> tuple[int, str]:
        sealer = _Sealer(stream, key, max_bytes)
        self.inner.put(key, _PieceStream(sealer.pieces()), sealed_bound(max_bytes))
        return sealer.size, sealer.digest.hexdigest()

    def open(self, key: str) -> BinaryIO:
        """The plaintext. Raises crypto.DecryptionFailed when the header does not unwrap; a chunk
        that fails authentication raises it on the read that reaches it."""
        raw = self.inner.open(key)
        try:
            head = _read_full(raw, len(MAGIC))
            if head != MAGIC:  # written before attachments were sealed: plaintext
                return _PieceStream(chain([head], iter(lambda: raw.read(CHUNK), b"")), raw.close)
            kek_id, wrapped = _read_header(raw)
            file_key = crypto.unwrap_file_key(*_ids(key), kek_id, wrapped)
            return _PieceStream(_opened_chunks(raw, key, file_key), raw.close)
        except BaseException:
            raw.close()
            raise

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def reseal(self, key: str, sha256: str) -> str:
        """Bring one file up to date: `sealed` (was plaintext), `rewrapped` (file key moved to the
        current master key), `current`, or `damaged` (plaintext not matching `sha256`: left alone)."""
        with self.inner.open(key) as raw:
            if _read_full(raw, len(MAGIC)) != MAGIC:
                return self._seal_legacy(key, sha256)
            kek_id, wrapped = _read_header(raw)
            current = keys.master().current_id
            if kek_id == current:
                return "current"
            file_key = crypto.unwrap_file_key(*_ids(key), kek_id, wrapped)
            header = _header(*crypto.wrap_file_key(*_ids(key), file_key, current))
            rest = iter(lambda: raw.read(CHUNK), b"")
            self.inner.put(key, _PieceStream(chain([header], rest)), sys.maxsize)  # the chunks stay as they are
        return "rewrapped"

    def _seal_legacy(self, key: str, sha256: str) -> str:
        with self.inner.open(key) as raw:
            if sha256_of(raw) != sha256:
                return "damaged"  # sealing it would bless whatever it now holds
        with self.inner.open(key) as raw:
            self.put(key, raw, sys.maxsize)
        return "sealed"


def sha256_of(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def chunks(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(CHUNK):
            yield chunk


def store_from_settings(settings: Settings) -> LocalFolderStore:
    """`PSA_VAULT_ATTACHMENT_DIR`, else `<data dir>/attachments` (unsealed: wrap it in SealedStore)."""
    folder = settings.get("PSA_VAULT_ATTACHMENT_DIR") or settings.data_dir / "attachments"
    return LocalFolderStore(Path(folder))


def max_bytes(settings: Settings) -> int:
    return int(settings.get("PSA_VAULT_MAX_ATTACHMENT_BYTES") or DEFAULT_MAX_BYTES)


def current_store() -> SealedStore:
    """The app's store, sealed: another implementation is plugged in by setting
    `app.extensions["psa_attachment_store"]`, and is handed ciphertext all the same."""
    extensions = current_app.extensions
    if "psa_attachment_store" not in extensions:
        extensions["psa_attachment_store"] = store_from_settings(extensions["psa_settings"])
    store = extensions["psa_attachment_store"]
    return store if isinstance(store, SealedStore) else SealedStore(store)
