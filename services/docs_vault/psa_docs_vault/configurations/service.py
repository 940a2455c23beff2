"""Configurations of the clients the caller is granted: create, read, change, retire.

A configuration's client must be one the vault has heard of (ClientRecord, fed by `client.*`
events) and one the caller is granted; anything else does not exist for them.
"""

from __future__ import annotations

from psa_shared.auth import Principal
from psa_shared.errors import NotFound, field_error
from psa_shared.events import utc_iso
from psa_shared.records import apply_changes, touch

from ..credentials.models import Credential
from ..database import db, emit
from ..projection import ClientRecord
from .models import Configuration


def visible_configurations(principal: Principal):
    """Configurations of every client the caller may see."""
    return principal.within_grants(Configuration.select(), Configuration.client_id)


def get_configuration(principal: Principal, configuration_id, lock: bool = False) -> Configuration:
    """A configuration of a granted client; any other (another tenant's too) reads as not found.
    `lock` holds its row (PostgreSQL) until the caller's transaction ends."""
    query = Configuration.select().where(Configuration.id == configuration_id)
    configuration = (db.locked(query) if lock else query).first()
    if configuration is None or not principal.sees_client(configuration.client_id):
        raise NotFound("configuration not found")
    return configuration


def check_client(principal: Principal, client_id, field: str = "client_id") -> ClientRecord:
    """A client known to the vault and granted to the caller, else 422 naming the field."""
    client = ClientRecord.get_or_none(ClientRecord.id == client_id) if client_id else None
    if client is None or not principal.sees_client(client.id):
        raise field_error(field, "client not found")
    return client


def configuration_payload(configuration: Configuration) -> dict:
    return {
        "id": configuration.id,
        "client_id": configuration.client_id,
        "type": configuration.type,
        "name": configuration.name,
        "active": configuration.active,
        "updated_at": utc_iso(configuration.updated_at),
    }


def create_configuration(principal: Principal, client_id, **fields) -> Configuration:
    with db.proxy.atomic():
        client = check_client(principal, client_id)
        configuration = Configuration(client_id=client.id, **fields)
        configuration.created_at = configuration.updated_at
        configuration.save(force_insert=True)
        emit("configuration.created", configuration_payload(configuration))
    return configuration


def _check_no_credentials_left_behind(configuration: Configuration, client_id) -> None:
    """A credential stays with its client: a configuration its credentials point at cannot move to
    another client (the credentials would name another client's device), 422 naming `client_id`."""
    if str(client_id) == str(configuration.client_id):
        return
    if Credential.select().where(Credential.configuration_id == configuration.id).exists():
        raise field_error(
            "client_id", "credentials of the current client point at this configuration; detach them first"
        )


def update_configuration(principal: Principal, configuration_id, **changes) -> Configuration:
    with db.proxy.atomic():
        # Locked: a credential linked to it meanwhile commits first (and is seen) or sees the move.
        configuration = get_configuration(principal, configuration_id, lock=True)
        if "client_id" in changes:
            changes["client_id"] = check_client(principal, changes["client_id"]).id
            _check_no_credentials_left_behind(configuration, changes["client_id"])
        if not apply_changes(configuration, changes):
            return configuration  # nothing changed: no write, no event, `updated_at` stays
        touch(configuration)
        configuration.save()
        emit("configuration.updated", configuration_payload(configuration))
    return configuration


def retire_configuration(principal: Principal, configuration_id) -> Configuration:
    """Retiring keeps the record and its history (tickets still name it); it only turns inactive."""
    return update_configuration(principal, configuration_id, active=False)
