"""Clients (the MSP's customers) and their contacts, seen through the caller's grants."""

from __future__ import annotations

from psa_shared.auth import Principal
from psa_shared.errors import NotFound, field_error
from psa_shared.records import apply_changes, touch
from psa_shared.statements import Slot, Statement

from ..database import db, emit
from .events import client_payload, contact_payload
from .members import grant_client
from .models import Client, Contact, next_number
from .snapshot import snapshot


def visible_clients(principal: Principal):
    """Clients the caller may see: all of them, or the granted ones."""
    return principal.within_grants(Client.select(), Client.id)


def get_client(principal: Principal, client_id, field: str | None = None) -> Client:
    """A client the caller may see. As a path id: 404; as a body field: 422 naming the field."""
    client = Client.get_or_none(Client.id == client_id) if client_id else None
    if client is None or not principal.sees_client(client.id):
        _not_found(field)
    return client


_CLIENT_EXISTS = Statement(lambda: Client.select(Client.id).where(Client.id == Slot("id")))


def check_client(principal: Principal, client_id, field: str) -> None:
    """`get_client` for a caller that needs only the answer. Clients are never deleted nor moved
    to another tenant, so a client once found stays known for the directory's generation: a
    ticket create reads nothing for it (a foreign key still refuses a row removed by hand)."""
    if not (principal.sees_client(client_id) and snapshot().get(("client", client_id), lambda: _exists(client_id))):
        _not_found(field)


def _exists(client_id) -> bool | None:
    return True if _CLIENT_EXISTS.rows(id=client_id) else None  # None: not kept, it may be created


def _not_found(field: str | None):
    if field:
        raise field_error(field, "client not found")
    raise NotFound("client not found")


def create_client(principal: Principal, **fields) -> Client:
    """A new client; a creator without every client is granted it, and told so like any grant (until
    2026-11-28 with no `member.grants_changed`, so the vault answered them 404 on its configurations)."""
    with db.proxy.atomic():
        client = Client.create(number=next_number("client"), **fields)
        emit("client.created", client_payload(client))
        if not principal.member.all_clients:  # whoever adds a client keeps seeing it
            grant_client(principal.member_id, client.id)
    return client


def update_client(principal: Principal, client_id, **changes) -> Client:
    with db.proxy.atomic():
        client = get_client(principal, client_id)
        if not apply_changes(client, changes):
            return client  # nothing changed: no write, no event, `updated_at` stays
        touch(client)
        client.save()
        emit("client.updated", client_payload(client))
    return client


def visible_contacts(principal: Principal):
    return principal.within_grants(Contact.select(), Contact.client)


def get_contact(principal: Principal, contact_id) -> Contact:
    contact = Contact.get_or_none(Contact.id == contact_id)
    if contact is None or not principal.sees_client(contact.client_id):
        raise NotFound("contact not found")
    return contact


def create_contact(principal: Principal, client_id, **fields) -> Contact:
    with db.proxy.atomic():
        client = get_client(principal, client_id, field="client_id")
        contact = Contact.create(client=client.id, **fields)
        emit("contact.created", contact_payload(contact))
    return contact


def update_contact(principal: Principal, contact_id, **changes) -> Contact:
    with db.proxy.atomic():
        contact = get_contact(principal, contact_id)
        if "client_id" in changes:
            changes["client_id"] = get_client(principal, changes["client_id"], field="client_id").id
        if not apply_changes(contact, changes):
            return contact  # nothing changed: no write, no event, `updated_at` stays
        touch(contact)
        contact.save()
        emit("contact.updated", contact_payload(contact))
    return contact
