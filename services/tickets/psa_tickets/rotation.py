"""Offboarding follow-up: when the vault reports that a departed member saw credentials not changed
since (`vault.rotation_required`), open one rotation ticket per client on the default board."""

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


def rotation_summary(member_name: str, count: int) -> str:
    noun = "credential" if count == 1 else "credentials"
    return f"Rotate {count} {noun} seen by {member_name[:120]} (offboarded)"


def rotation_required(event: Event, payload: dict) -> None:
    board = default_board()  # no default board: fail, so the bus retries and the operator sees it
    principal = system_principal()
    with tenancy.acting_as("system:rotation"):
        for entry in payload["clients"]:
            if Client.get_or_none(Client.id == entry["client_id"]) is None:
                log.warning("rotation_required names client %s, unknown here; skipped", entry["client_id"])
                continue
            ids = [str(c) for c in entry["credential_ids"]]
            if not ids:
                continue
            create_ticket(
                principal,
                client_id=entry["client_id"],
                board_id=board.id,
                priority=PRIORITY,
                summary=rotation_summary(payload["member_name"], len(ids)),
                description="Change these credentials in the vault, then close this ticket:\n"
                + "\n".join(f"- /api/v1/credentials/{c}" for c in ids),
            )
