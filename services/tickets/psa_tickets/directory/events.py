"""Event payloads of directory records: what other services need to never call back."""

from psa_shared.events import utc_iso

from .models import Client, ClientGrant, Contact, Member


def granted_client_ids(member: Member) -> list:
    return [g.client_id for g in ClientGrant.select(ClientGrant.client).where(ClientGrant.member == member.id)]


def member_payload(member: Member) -> dict:
    return {
        "id": member.id,
        "email": member.email,
        "name": member.name,
        "role": member.role,
        "active": member.active,
        "stamp": member.stamp,
        "all_clients": member.all_clients,
        "client_ids": granted_client_ids(member),
        "weekly_capacity_hours": str(member.weekly_capacity_hours),
        "updated_at": utc_iso(member.updated_at),
    }


def client_payload(client: Client) -> dict:
    return {
        "id": client.id,
        "name": client.name,
        "number": client.number,
        "phone": client.phone,
        "website": client.website,
        "notes": client.notes,
        "active": client.active,
        "updated_at": utc_iso(client.updated_at),
    }


def contact_payload(contact: Contact) -> dict:
    return {
        "id": contact.id,
        "client_id": contact.client_id,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "title": contact.title,
        "active": contact.active,
        "updated_at": utc_iso(contact.updated_at),
    }
