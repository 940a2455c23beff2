"""Statements built once keep what the query builder promised: tenant scoping that fails closed,
values converted as peewee converts them, and no value frozen at build time."""

import datetime as dt

import pytest
from peewee import fn

from psa_shared.ids import new_id
from psa_shared.statements import BuiltWithFixedValue, Insert, Shapes, Slot, Statement
from psa_shared.tenancy import TenantScopeError, tenant_scope
from psa_tickets.directory.models import Client
from psa_tickets.servicedesk.models import Ticket, TicketChange


def _ticket(tenant) -> dict:
    client = tenant.client("Acme Dental")
    return tenant.api.post("/api/v1/tickets", json={"client_id": client["id"], "summary": "Printer jams"}).json


BY_NAME = Statement(lambda: Client.select().where(Client.name == Slot("name")))


def test_a_statement_reads_only_the_tenant_in_context(psa, tenant, other_tenant):
    tenant.client("Acme Dental")
    other_tenant.client("Acme Dental")
    with psa.service("tickets").db.proxy.connection_context():
        for owner in (tenant, other_tenant):
            with tenant_scope(owner.id):
                (client,) = BY_NAME.models(name="Acme Dental")
                assert str(client.tenant_id) == owner.id  # the tenant is a parameter, not baked in


def test_a_statement_without_a_tenant_in_context_raises(psa, tenant):
    with psa.service("tickets").db.proxy.connection_context(), pytest.raises(TenantScopeError):
        BY_NAME.rows(name="Acme Dental")


def test_rows_read_as_the_query_builder_reads_them(psa, tenant):
    ticket = _ticket(tenant)
    by_id = Statement(lambda: Ticket.select().where(Ticket.id == Slot("id")))
    with psa.service("tickets").db.proxy.connection_context(), tenant_scope(tenant.id):
        (fast,) = by_id.models(id=ticket["id"])
        slow = Ticket.get_by_id(ticket["id"])
    assert fast.__data__ == slow.__data__
    assert isinstance(fast.created_at, dt.datetime) and fast.client_id == slow.client_id


def test_an_insert_stamps_the_tenant_in_context_and_refuses_another(psa, tenant, other_tenant):
    insert = Insert(TicketChange)
    tickets = {owner.id: _ticket(owner) for owner in (tenant, other_tenant)}
    with psa.service("tickets").db.proxy.connection_context():
        for owner in (tenant, other_tenant):
            ticket = tickets[owner.id]
            with tenant_scope(owner.id):
                insert.write(TicketChange(ticket=ticket["id"], kind="note", text="Called client."))
                (change,) = TicketChange.select().where(TicketChange.kind == "note")
                assert str(change.tenant_id) == owner.id
        with tenant_scope(other_tenant.id), pytest.raises(TenantScopeError):
            insert.write(TicketChange(ticket=ticket["id"], kind="note", tenant_id=tenant.id))


def test_a_value_worked_out_at_build_time_is_refused(psa, tenant):
    frozen_id = Statement(lambda: Client.update(name=Slot("name")).where(Client.id == new_id()))
    with (
        psa.service("tickets").db.proxy.connection_context(),
        tenant_scope(tenant.id),
        pytest.raises(BuiltWithFixedValue),
    ):
        frozen_id.cursor(name="Acme")


def test_shapes_build_one_statement_per_shape():
    shapes = Shapes(lambda count: Client.select().where(Client.number.in_([Slot(f"n{i}") for i in range(count)])))
    assert shapes[2] is shapes[2] and shapes[2] is not shapes[3]


def _with_change_count(ticket_id):
    changes = TicketChange.select(fn.COUNT(TicketChange.id)).where(TicketChange.ticket == Ticket.id)
    return Ticket.select(Ticket, changes.alias("changes")).where(Ticket.id == ticket_id)


def test_a_subquery_column_reads_as_peewee_reads_it(psa, tenant):
    ticket = _ticket(tenant)
    with psa.service("tickets").db.proxy.connection_context(), tenant_scope(tenant.id):
        (fast,) = Statement(lambda: _with_change_count(Slot("id"))).models(id=ticket["id"])
        (slow,) = _with_change_count(ticket["id"])
    assert fast.changes == slow.changes == 1 and fast.__data__ == slow.__data__
