"""Offboarding follow-up: when the vault reports that a departed member saw credentials not changed
since, or holds copies of attachments still kept (`vault.rotation_required`), open one rotation
ticket per client on the default board."""

from __future__ import annotations

import logging

from psa_shared import tenancy
from psa_shared.auth import MemberView, Principal
from psa_shared.events import Event

from .directory.models import Client
from .servicedesk.boards import default_board
from .servicedesk.tickets import create_ticket

log = logging.getLogger(__name__)
PRIORITY = "P2"  # a former employee may still know these passwords: ahead of routine work


def system_principal() -> Principal:
    """The tickets service acting on an event: every client, no member (trail rows show no author)."""
    tenant_id = tenancy.current_tenant()
    return Principal(MemberView(id=None, tenant_id=tenant_id, role="admin", active=True, stamp="", all_clients=True))


def rotation_summary(credentials: int, files: int) -> str:
    """Neutral: the summary heads the ticket in the client's activity report, so it names no one
    (until 2026-11-28 it printed the departed engineer's name, "offboarded", to the client)."""
    counted = [f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in ((credentials, "credential"), (files, "file")) if n]
    return f"Rotate {' and '.join(counted)} (staff change)"


def rotation_description(member_name: str, credential_ids: list, attachments: list[dict]) -> str:
    """For the MSP (the client's reports print no description): who left, and what to change."""
    lines = [f"{member_name[:200]} left and saw these, unchanged since."]
    if credential_ids:
        lines += ["Change these credentials in the vault:", *(f"- /api/v1/credentials/{c}" for c in credential_ids)]
    if attachments:
        lines += [
            "Replace what these files unlock (a license key, a certificate, a VPN profile), upload the new "
            "file and delete the old one:",
            *(f"- /api/v1/configurations/{a['configuration_id']}/attachments/{a['id']}" for a in attachments),
        ]
    return "\n".join([*lines, "Then close this ticket."])


def rotation_required(event: Event, payload: dict) -> None:
    board = default_board()  # no default board: fail, so the bus retries and the operator sees it
    principal = system_principal()
    with tenancy.acting_as("system:rotation"):
        for entry in payload["clients"]:
            if Client.get_or_none(Client.id == entry["client_id"]) is None:
                log.warning("rotation_required names client %s, unknown here; skipped", entry["client_id"])
                continue
            credential_ids, attachments = entry["credential_ids"], entry["attachments"]
            if not credential_ids and not attachments:
                continue
            create_ticket(
                principal,
                client_id=entry["client_id"],
                board_id=board.id,
                priority=PRIORITY,
                summary=rotation_summary(len(credential_ids), len(attachments)),
                description=rotation_description(payload["member_name"], credential_ids, attachments),
            )
