"""Offboarding: which credentials a member saw (revealed or exported) that nobody has changed since,
and which attachments they downloaded that are still kept; and the rotation work raised when they
are deactivated."""

from __future__ import annotations

from collections import defaultdict

import peewee

from . import audit, projection
from .attachments.models import Attachment
from .audit import AuditRow
from .configurations.models import Configuration
from .credentials.models import Credential, CredentialChange
from .database import emit

SEEN = ("reveal", "export")


def _latest(query, field) -> dict:
    latest = {}
    for credential_id, at in query.tuples():
        if isinstance(at, str):  # SQLite hands aggregates back as text
            at = field.python_value(at)
        latest[credential_id] = at
    return latest


def at_risk(member_id, visible_to=None) -> list[dict]:
    """Credentials whose secret did not change after the member last saw it (revealed, exported,
    or set it themselves: who typed a password knows it), oldest sighting first."""
    revealed = _latest(
        AuditRow.select(AuditRow.credential_id, peewee.fn.MAX(AuditRow.at))
        .where((AuditRow.actor_id == member_id) & (AuditRow.outcome == "allowed") & AuditRow.action.in_(SEEN))
        .group_by(AuditRow.credential_id),
        AuditRow.at,
    )
    written = _latest(
        CredentialChange.select(CredentialChange.credential_id, peewee.fn.MAX(CredentialChange.at))
        .where((CredentialChange.actor_id == member_id) & CredentialChange.secret_changed)
        .group_by(CredentialChange.credential_id),
        CredentialChange.at,
    )
    seen = {c: max(t for t in (revealed.get(c), written.get(c)) if t is not None) for c in {*revealed, *written}}
    if not seen:
        return []
    items = []
    for credential in Credential.select().where(Credential.id.in_(list(seen))):
        seen_at = seen[credential.id]
        if credential.changed_at > seen_at:
            continue
        if visible_to is not None and not visible_to.sees_client(credential.client_id):
            continue
        items.append(
            {
                "credential_id": credential.id,
                "client_id": credential.client_id,
                "name": credential.name,
                "last_seen_at": seen_at,
                "changed_at": credential.changed_at,
            }
        )
    return sorted(items, key=lambda item: (item["last_seen_at"], str(item["credential_id"])))


def attachments_at_risk(member_id, visible_to=None) -> list[dict]:
    """Attachments still kept that the member downloaded or uploaded (a `.key` or `.pfx` they hold
    a copy of). A file never changes: it leaves the list when it is deleted, once what it unlocks
    was replaced."""
    downloaded = _latest(
        AuditRow.select(AuditRow.attachment_id, peewee.fn.MAX(AuditRow.at))
        .where((AuditRow.actor_id == member_id) & (AuditRow.outcome == "allowed") & (AuditRow.action == "download"))
        .group_by(AuditRow.attachment_id),
        AuditRow.at,
    )
    query = (
        Attachment.select(Attachment, Configuration.id, Configuration.client_id)
        .join(Configuration)
        .where(Attachment.id.in_(list(downloaded)) | (Attachment.uploaded_by == member_id))
    )
    items = []
    for attachment in query:
        client_id = attachment.configuration.client_id
        if visible_to is not None and not visible_to.sees_client(client_id):
            continue
        uploaded = attachment.created_at if str(attachment.uploaded_by) == str(member_id) else None
        items.append(
            {
                "attachment_id": attachment.id,
                "configuration_id": attachment.configuration_id,
                "client_id": client_id,
                "name": attachment.filename,
                "last_seen_at": max(t for t in (downloaded.get(attachment.id), uploaded) if t is not None),
                "changed_at": attachment.created_at,
            }
        )
    return items


def seen_and_unchanged(member_id, visible_to=None) -> list[dict]:
    """The at-risk report: credentials and attachments together, oldest sighting first."""
    items = at_risk(member_id, visible_to) + attachments_at_risk(member_id, visible_to)
    return sorted(
        items, key=lambda item: (item["last_seen_at"], str(item.get("credential_id") or item["attachment_id"]))
    )


def on_member_deactivated(event, payload: dict) -> None:
    """Apply the projection first (their tokens die here too), then raise rotation work if any.

    The tenant's audit head is held from before the projection changes to the commit: a reveal or
    download appends under the same lock, only while its member is still active, so each one the
    leaver took is either committed before this lists what they saw, or refused (`ratelimit`)."""
    if not payload.get("active", False):
        audit.start_chain()  # a head to hold, even before the tenant's first audit row
        audit.lock_head()
    projection.on_member(event, payload)
    if payload.get("active", False):
        return
    by_client: dict = defaultdict(lambda: {"credential_ids": [], "attachments": []})
    for item in at_risk(payload["id"]):
        by_client[item["client_id"]]["credential_ids"].append(item["credential_id"])
    for item in attachments_at_risk(payload["id"]):
        attachment = {"id": item["attachment_id"], "configuration_id": item["configuration_id"]}
        by_client[item["client_id"]]["attachments"].append(attachment)
    if not by_client:
        return
    emit(
        "vault.rotation_required",
        {
            "member_id": payload["id"],
            "member_name": payload["name"],
            "clients": [{"client_id": c, **seen} for c, seen in sorted(by_client.items(), key=lambda i: str(i[0]))],
        },
    )
