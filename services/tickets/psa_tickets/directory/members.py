"""Members: create, update, deactivate, grant clients. Every change emits a `member.*` event."""

from __future__ import annotations

from decimal import Decimal

from psa_shared.errors import Conflict, NotFound, field_error
from psa_shared.records import apply_changes, touch

from ..database import db, emit
from . import sign_in_limit
from .events import granted_client_ids, member_payload
from .models import Client, ClientGrant, Member, directory_changed, new_stamp
from .passwords import hash_password


def get_member(member_id, to_change: bool = False) -> Member:
    """A member of the tenant in context; `to_change` locks it for the caller's transaction, so
    two admins' changes to one member take turns (two grant edits at once would otherwise leave
    the union of both lists)."""
    query = Member.select().where(Member.id == member_id)
    member = (db.locked(query) if to_change else query).first()
    if member is None:
        raise NotFound("member not found")
    return member


def _lock_active_admins() -> set:
    """The ids of the tenant's active admins, locked (in id order, before the member changed) for
    a change that may take one away: two admins demoting each other at once take turns, and the
    second sees it would leave none."""
    query = Member.select(Member.id).where((Member.role == "admin") & Member.active).order_by(Member.id)
    return {row.id for row in db.locked(query)}


def _check_email_free(email: str, member_id=None) -> None:
    query = Member.select().where(Member.email == email.lower())
    if member_id is not None:
        query = query.where(Member.id != member_id)
    if query.exists():
        raise field_error("email", "a member with this email already exists")


def create_member(
    email: str,
    name: str,
    role: str,
    password: str | None = None,
    weekly_capacity_hours: Decimal | None = None,
    all_clients: bool | None = None,
) -> Member:
    with db.proxy.atomic():
        _check_email_free(email)
        member = Member.create(
            email=email.lower(),
            name=name,
            role=role,
            password_hash=hash_password(password) if password else None,
            weekly_capacity_minutes=_minutes(weekly_capacity_hours if weekly_capacity_hours is not None else 40),
            all_clients=(role == "admin") if all_clients is None else all_clients,
        )
        directory_changed()
        emit("member.created", member_payload(member))
    return member


def update_member(member_id, **changes) -> Member:
    """Change what `changes` gives; values as they are (a password always counts) write nothing."""
    with db.proxy.atomic():
        admins = _lock_active_admins() if changes.get("role", "admin") != "admin" else None
        member = get_member(member_id, to_change=True)
        if admins is not None and admins == {member.id}:
            raise field_error("role", "the tenant's last active admin keeps that role: make another member admin first")
        password, email = changes.pop("password", None), member.email
        if not (apply_changes(member, _as_stored(member, changes)) or password):
            return member  # nothing changed: no write, no event, `updated_at` stays
        if password or member.email != email:
            sign_in_limit.forget_addresses(email)
        if password:
            member.password_hash = hash_password(password)
            member.stamp = new_stamp()  # a new password signs out every session
        touch(member)
        member.save()
        directory_changed()
        emit("member.updated", member_payload(member))
    return member


def _as_stored(member: Member, changes: dict) -> dict:
    """The member's columns as `changes` would have them."""
    fields = {name: changes[name] for name in ("name", "role") if name in changes}
    if "email" in changes:
        _check_email_free(changes["email"], member.id)
        fields["email"] = changes["email"].lower()
    if "weekly_capacity_hours" in changes:
        fields["weekly_capacity_minutes"] = _minutes(changes["weekly_capacity_hours"])
    if member.role == "admin" and changes.get("role", "admin") != "admin":
        # every client came with the admin role; a demoted admin keeps the clients granted by name
        fields["all_clients"] = False
    return fields


def deactivate_member(member_id) -> Member:
    """The member's tokens die now: a new security stamp no token carries. The tenant's last
    active admin stays (409): nobody could manage its members any more."""
    with db.proxy.atomic():
        admins = _lock_active_admins()
        member = get_member(member_id, to_change=True)
        if admins == {member.id}:
            raise Conflict("the tenant's last active admin cannot be deactivated: make another member admin first")
        member.active = False
        member.stamp = new_stamp()
        touch(member)
        member.save()
        directory_changed()
        emit("member.deactivated", member_payload(member))
    return member


def set_grants(member_id, all_clients: bool, client_ids: list) -> Member:
    """Replace the member's grants; the grants they hold already write nothing."""
    with db.proxy.atomic():
        member = get_member(member_id, to_change=True)
        wanted = set(client_ids)
        found = {c.id for c in Client.select(Client.id).where(Client.id.in_(list(wanted)))} if wanted else set()
        if missing := wanted - found:
            raise field_error("client_ids", f"client not found: {sorted(map(str, missing))[0]}")
        if all_clients == member.all_clients and wanted == set(granted_client_ids(member)):
            return member  # nothing changed: no write, no event, `updated_at` stays
        ClientGrant.delete().where(ClientGrant.member == member.id).execute()
        for client_id in sorted(wanted):
            ClientGrant.create(member=member.id, client=client_id)
        member.all_clients = all_clients
        _grants_changed(member)
    return member


def grant_client(member_id, client_id) -> None:
    """Grant one more client to the member (in the caller's transaction), as a grant change."""
    member = get_member(member_id, to_change=True)
    ClientGrant.create(member=member.id, client=client_id)
    _grants_changed(member)


def _grants_changed(member: Member) -> None:
    touch(member)
    member.save()
    directory_changed()
    emit("member.grants_changed", member_payload(member))


def _minutes(hours) -> int:
    return int((Decimal(str(hours)) * 60).to_integral_value())
