"""Where attachment bytes live: a pluggable store, a local folder by default.

The database holds the metadata and the SHA-256; a store only keeps bytes under keys it is
given (`<tenant>/<attachment id>`), so a client's filename never becomes a path.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

from psa_shared.config import Settings

CHUNK = 64 * 1024
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_KEY = re.compile(r"^[0-9a-f-]{36}/[0-9a-f-]{36}$")


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

    def put(self, key: str, stream: BinaryIO, max_bytes: int) -> tuple[int, str]:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        digest, size = hashlib.sha256(), 0
        try:
            with open(partial, "wb") as out:
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


def sha256_of(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def chunks(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(CHUNK):
            yield chunk


def store_from_settings(settings: Settings) -> AttachmentStore:
    """`PSA_VAULT_ATTACHMENT_DIR`, else `<data dir>/attachments`."""
    folder = settings.get("PSA_VAULT_ATTACHMENT_DIR") or settings.data_dir / "attachments"
    return LocalFolderStore(Path(folder))


def max_bytes(settings: Settings) -> int:
    return int(settings.get("PSA_VAULT_MAX_ATTACHMENT_BYTES") or DEFAULT_MAX_BYTES)


def current_store() -> AttachmentStore:
    """The app's store: another implementation is plugged in by setting `app.extensions["psa_attachment_store"]`."""
    extensions = current_app.extensions
    if "psa_attachment_store" not in extensions:
        extensions["psa_attachment_store"] = store_from_settings(extensions["psa_settings"])
    return extensions["psa_attachment_store"]
