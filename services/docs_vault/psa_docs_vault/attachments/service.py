"""Attach, list, fetch and delete a configuration's files, with the configuration's access checks.

A download is audited and rate-limited as a reveal is (a `.key` or `.pfx` is a secret): its row
commits before the bytes leave, and a refusal (no grant, unknown id, past the limit) leaves a
denied row.

Bytes are written to the store before the row commits, and removed again if it does not; a
deleted row's bytes are removed after commit. A crash between the two leaves an orphan file,
never a row pointing at nothing that was promised.

The store is a `SealedStore`: bytes are encrypted at rest, and the size and SHA-256 kept here are
the plaintext's. A file that does not decrypt is refused as damaged, never served as it is.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import BinaryIO

from werkzeug.datastructures import FileStorage

from psa_shared.auth import Principal
from psa_shared.errors import Forbidden, InvalidInput, NotFound, Problem
from psa_shared.ids import new_id
from psa_shared.outbox import utcnow
from psa_shared.statements import Slot, Statement
from psa_shared.tenancy import current_tenant

from .. import audit, crypto, ratelimit
from ..configurations.models import Configuration
from ..configurations.service import get_configuration
from ..credentials import settings
from ..database import db, emit, know_tenant
from .models import Attachment
from .store import AttachmentStore, SealedStore, TooLarge, attachment_key, sha256_of
from .types import Refused, clean_filename, content_type_for

log = logging.getLogger(__name__)


class PayloadTooLarge(Problem):
    status, title = 413, "Payload too large"


class UnsupportedMediaType(Problem):
    status, title = 415, "Unsupported media type"


class Damaged(Problem):
    status, title = 500, "Stored file damaged"


def _file_error(problem: type[Problem], message: str) -> Problem:
    return problem(f"file: {message}", errors={"file": [message]})


def too_large(limit: int) -> Problem:
    return _file_error(PayloadTooLarge, f"larger than the limit of {limit} bytes")


def attachment_payload(attachment: Attachment, client_id) -> dict:
    fields = ("id", "configuration_id", "filename", "content_type", "size", "sha256")
    return {name: getattr(attachment, name) for name in fields} | {"client_id": client_id}


def add_attachment(
    principal: Principal,
    ctx: audit.Context,
    configuration_id,
    upload: FileStorage | None,
    store: AttachmentStore,
    limit: int,
) -> Attachment:
    configuration = get_configuration(principal, configuration_id)
    if upload is None:
        raise _file_error(InvalidInput, "send the file as multipart form field 'file'")
    try:
        filename = clean_filename(upload.filename)
    except Refused as refused:
        raise _file_error(InvalidInput, str(refused)) from None
    head = upload.stream.read(512)
    upload.stream.seek(0)
    try:
        content_type = content_type_for(filename, upload.mimetype, head)
    except Refused as refused:
        raise _file_error(UnsupportedMediaType, str(refused)) from None
    attachment_id = new_id()
    key = attachment_key(current_tenant(), attachment_id)
    try:
        size, digest = store.put(key, upload.stream, limit)
    except TooLarge:
        raise too_large(limit) from None
    try:
        with db.proxy.atomic():
            attachment = Attachment.create(
                id=attachment_id,
                configuration=configuration.id,
                filename=filename,
                content_type=content_type,
                size=size,
                sha256=digest,
                uploaded_by=principal.member_id,
            )
            emit("attachment.added", attachment_payload(attachment, configuration.client_id))
            audit.append(ctx, "create", "allowed", client_id=configuration.client_id, attachment_id=attachment.id)
            know_tenant(current_tenant())  # so `psa vault rotate-master-key` visits its files
    except Exception:
        store.delete(key)
        raise
    return attachment


def list_attachments(principal: Principal, configuration_id):
    configuration = get_configuration(principal, configuration_id)
    return Attachment.select().where(Attachment.configuration == configuration.id)


def get_attachment(principal: Principal, configuration_id, attachment_id) -> Attachment:
    configuration = get_configuration(principal, configuration_id)
    attachment = Attachment.get_or_none(
        (Attachment.id == attachment_id) & (Attachment.configuration == configuration.id)
    )
    if attachment is None:
        raise NotFound("attachment not found")
    return attachment


# What a download reads with the attachment, before any lock: the member's window and the rules.
_FOR_DOWNLOAD = Statement(
    lambda: Attachment.select(
        Attachment, *ratelimit.window_columns(Slot("member"), Slot("since")), *settings.columns()
    ).where((Attachment.id == Slot("id")) & (Attachment.configuration == Slot("configuration")))
)


def _find_for_download(
    p: Principal, ctx: audit.Context, configuration_id, attachment_id, reason: str | None, since
) -> Attachment:
    """The attachment with the member's window since `since` and the rules (`_FOR_DOWNLOAD`), or a
    denied row committed and the refusal raised, as for a reveal."""
    denied = {"attachment_id": attachment_id, "reason": reason}
    if "vault:read" not in p.permissions:
        audit.denied(ctx, "download", "forbidden", **denied)
        raise Forbidden("this action needs the 'vault:read' permission")
    configuration = Configuration.get_or_none(Configuration.id == configuration_id)
    if configuration is None:
        audit.denied(ctx, "download", "not_found", **denied)
        raise NotFound("configuration not found")
    if not p.sees_client(configuration.client_id):
        audit.denied(ctx, "download", "no_grant", client_id=configuration.client_id, **denied)
        raise NotFound("configuration not found")
    row = _FOR_DOWNLOAD.first(id=attachment_id, configuration=configuration.id, member=p.member_id, since=since)
    if row is None:
        audit.denied(ctx, "download", "not_found", client_id=configuration.client_id, **denied)
        raise NotFound("attachment not found")
    row.client_id = configuration.client_id  # for the audit row
    return row


def download(
    p: Principal, ctx: audit.Context, configuration_id, attachment_id, store: AttachmentStore, reason: str | None
) -> tuple[Attachment, BinaryIO]:
    """The attachment and its verified bytes, returned only once the download's audit row has
    committed; it counts against the member's reveal limit (`ratelimit.LIMITED`)."""
    now = utcnow()
    row = _find_for_download(p, ctx, configuration_id, attachment_id, reason, since=now - ratelimit.WINDOW)
    rules = settings.from_columns(row)
    settings.check_reason(rules, reason)
    stream = open_verified(row, store)
    try:
        ratelimit.admit(
            ctx, p.member_id, row, rules["reveal_limit_per_hour"], now, "download",
            attachment_id=row.id, client_id=row.client_id, reason=reason,
        )  # fmt: skip
    except BaseException:
        stream.close()
        raise
    return row, stream


def open_verified(attachment: Attachment, store: AttachmentStore):
    """The stored bytes, opened for reading after their checksum matched the one recorded at upload."""
    key = attachment_key(attachment.tenant_id, attachment.id)
    try:
        with store.open(key) as stream:
            intact = sha256_of(stream) == attachment.sha256
        if intact:
            return store.open(key)
    except FileNotFoundError:
        pass
    except crypto.DecryptionFailed as failed:  # edited, moved, or its master key is not configured
        log.error("attachment %s does not decrypt: %s", attachment.id, failed)
        raise Damaged("the stored file does not decrypt; restore it from backup or configure its master key") from None
    log.error("attachment %s failed its checksum or is missing from the store", attachment.id)
    raise Damaged("the stored file is missing or does not match its checksum; restore it from backup")


def delete_attachment(
    principal: Principal, ctx: audit.Context, configuration_id, attachment_id, store: AttachmentStore
) -> None:
    """Audited as a credential's delete is: a file a leaver downloaded and then deleted leaves the
    at-risk report, and until 2026-11-28 nothing said who deleted it."""
    with db.proxy.atomic():
        attachment = get_attachment(principal, configuration_id, attachment_id)
        client_id = attachment.configuration.client_id
        payload = attachment_payload(attachment, client_id)
        attachment.delete_instance()
        emit("attachment.removed", payload)
        audit.append(ctx, "delete", "allowed", client_id=client_id, attachment_id=attachment.id)
    store.delete(attachment_key(attachment.tenant_id, attachment.id))


def reseal_all(store: SealedStore) -> Counter:
    """Every file of the tenant in context sealed under the current master key (`SealedStore.reseal`);
    counts by outcome, `missing` and `damaged` ones left as they are and logged."""
    outcomes: Counter = Counter()
    for attachment in Attachment.select().order_by(Attachment.id):
        try:
            outcome = store.reseal(attachment_key(attachment.tenant_id, attachment.id), attachment.sha256)
        except FileNotFoundError:
            outcome = "missing"
        except crypto.DecryptionFailed as failed:
            log.error("attachment %s does not decrypt: %s", attachment.id, failed)
            outcome = "damaged"
        outcomes[outcome] += 1
    return outcomes
