"""Seeding helpers for the project, work-queue and report stories.

Tickets are written straight to the tables (not through the tickets API) so these stories do not
depend on how tickets are opened; only the columns the reports read are set.
"""

import itertools
from contextlib import contextmanager

from psa_shared.tenancy import tenant_scope

_seq = itertools.count(1000)


@contextmanager
def in_tenant(psa, tenant):
    with psa.service("tickets").db.proxy.connection_context(), tenant_scope(tenant.id):
        yield


def board(psa, tenant, name=None) -> str:
    from psa_tickets.servicedesk.models import Board

    with in_tenant(psa, tenant):
        return str(Board.create(name=name or f"Board {next(_seq)}").id)


def ticket(psa, tenant, client_id, board_id, *, kind="open", **fields) -> str:
    from psa_tickets.servicedesk.models import Status, Ticket

    with in_tenant(psa, tenant):
        status, _ = Status.get_or_create(board=board_id, name=kind.title(), defaults={"kind": kind})
        row = Ticket.create(
            number=next(_seq),
            client=client_id,
            board=board_id,
            status=status.id,
            status_kind=kind,
            summary=fields.pop("summary", "Mailbox clean-up"),
            **fields,
        )
        return str(row.id)


def project(tenant_api, client_id, **fields) -> dict:
    made = tenant_api.post("/api/v1/projects", json={"client_id": client_id, "name": "Office move", **fields})
    assert made.status_code == 201, made.json
    return made.json


def task(tenant_api, project_id, **fields) -> dict:
    made = tenant_api.post(f"/api/v1/projects/{project_id}/tasks", json={"name": "Cable desks", **fields})
    assert made.status_code == 201, made.json
    return made.json


def events(psa, tenant, name) -> list[dict]:
    import json

    outbox = psa.service("tickets").outbox.model
    with psa.service("tickets").db.proxy.connection_context():
        mine = (outbox.type == name) & (outbox.tenant_id == tenant.id)
        rows = outbox.select().where(mine).order_by(outbox.created_at)
        return [json.loads(r.body)["payload"] for r in rows]
