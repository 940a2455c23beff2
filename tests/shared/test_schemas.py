"""The response schemas' direct dumping gives what marshmallow itself gives, field for field."""

import marshmallow as ma
from marshmallow import fields

from psa_shared.schemas import Schema
from psa_shared.tenancy import tenant_scope
from psa_tickets.api.ticket_time import TimeEntrySchema
from psa_tickets.api.tickets import TicketSchema
from psa_tickets.servicedesk.models import Ticket, TimeEntry


def _as_marshmallow_dumps(schema: ma.Schema, obj) -> dict:
    return ma.Schema._serialize(schema, obj)


def test_tickets_and_time_entries_dump_as_marshmallow_dumps_them(psa, tenant):
    client = tenant.client("Acme Dental")
    bare = tenant.api.post("/api/v1/tickets", json={"client_id": client["id"], "summary": "Printer jams"}).json
    full = tenant.api.post(
        "/api/v1/tickets",
        json={"client_id": client["id"], "summary": "Mailbox full", "description": "Clean it out", "priority": "P1",
              "estimate_minutes": 90, "assignee_id": tenant.admin_id, "status": "Waiting on Client"},
    ).json  # fmt: skip
    tenant.api.patch(f"/api/v1/tickets/{bare['id']}", json={"status": "Closed"})
    entry = {"minutes": 0, "billing": "billable", "notes": "Called client. Left voicemail.", "outcome": "no_response"}
    assert tenant.api.post(f"/api/v1/tickets/{full['id']}/time-entries", json=entry).status_code == 201
    with psa.service("tickets").db.proxy.connection_context(), tenant_scope(tenant.id):
        rows = [(TicketSchema(), t) for t in Ticket.select()] + [(TimeEntrySchema(), e) for e in TimeEntry.select()]
        for schema, row in rows:
            assert schema.dump(row) == _as_marshmallow_dumps(schema, row)
    assert len(rows) == 3


class Shapes(Schema):
    renamed = fields.String(data_key="shown_as")
    from_attribute = fields.Integer(attribute="count")
    as_text = fields.Integer(as_string=True, dump_only=True)
    absent = fields.String()
    nothing = fields.UUID(allow_none=True)


class Row:
    renamed, count, as_text, nothing = "kept", 7, 8, None


def test_data_keys_attributes_and_absent_values_follow_marshmallow():
    for obj in (Row(), {"renamed": "kept", "count": 7, "as_text": 8, "nothing": None}):
        assert Shapes().dump(obj) == _as_marshmallow_dumps(Shapes(), obj)
    assert Shapes().dump(Row()) == {"shown_as": "kept", "from_attribute": 7, "as_text": "8", "nothing": None}
