"""What plugins may call in the tickets service: a public API, kept stable like the hookspecs.

A plugin's code runs without a member behind it (a `psa_shared.web.public` webhook, a
`psa_on_event` hook, a CLI command), so these act as the tickets service itself does on an event
(`psa_tickets.rotation`): every client of the tenant, no member on the trail ("PSA Core
(automatic)"), the plugin named as the actor on the events they emit.
"""

from __future__ import annotations

import contextlib
import uuid

import marshmallow as ma

from psa_shared import tenancy
from psa_shared.errors import InvalidInput, flatten_errors
from psa_shared.web import refused_string  # the API parser's own check

from .api.ticket_trail import NoteSchema
from .api.tickets import TicketInput, TicketSchema
from .database import db
from .plugin_settings import tenant_settings as settings_store
from .rotation import system_principal
from .servicedesk import notes
from .servicedesk.tickets import create_ticket

__all__ = ["add_note", "open_ticket", "tenant_settings"]


def open_ticket(tenant_id: uuid.UUID | str, *, plugin: str, client_id: uuid.UUID | str, summary: str, **fields) -> dict:
    """Open a ticket in tenant `tenant_id` for one of its clients, as the integration `plugin`.

    The same checks and effects as `POST /api/v1/tickets` (SLA due times, the trail row, the
    `ticket.created` event), in the tenant's scope whatever scope the caller is in. It commits
    before it returns: a webhook that fails after it has still opened the ticket, and an RMM that
    sends the alert again on that 500 opens a second one. Call it last, once everything that
    can refuse the request has run.

    Args:
        tenant_id: the tenant to open it in. Nothing here checks it against the caller: take it
            only from what the caller's signature vouches for (a per-tenant secret, say).
        plugin: the plugin's name; the `ticket.created` event's actor is `system:plugin.<plugin>`
            (a plugin reacting to `ticket.created` can tell, and skip, the tickets it opened).
        client_id: a client of that tenant; another tenant's reads as not found.
        summary: the ticket's one line, as the API takes it (1-200 characters).
        **fields: any other field `POST /api/v1/tickets` takes: `description`, `priority`
            (`P1`-`P5`), `contact_id`, `board_id` (default: the tenant's default board), ...

    Returns:
        The ticket as `GET /api/v1/tickets/<id>` shows it (`id`, `number`, `status`, ...).

    Raises:
        psa_shared.errors.InvalidInput: a field refused, the client not the tenant's, or no
            default board; raised from a view it answers 422 with the fields at fault.
    """
    data = _loaded(TicketInput, {"client_id": client_id, "summary": summary, **fields})
    with _as_integration(tenant_id, plugin):
        return TicketSchema().dump(create_ticket(system_principal(), **data))


def add_note(tenant_id: uuid.UUID | str, ticket_id: uuid.UUID | str, *, plugin: str, text: str, internal=True) -> dict:
    """Add a note to a ticket of tenant `tenant_id`, as the integration `plugin` ("the RMM cleared
    the alert"), as `POST /api/v1/tickets/<id>/notes` does, the `note.created` event included.

    Args:
        tenant_id: as for `open_ticket`.
        ticket_id: a ticket of that tenant (`open_ticket` returned its `id`).
        plugin: the plugin's name; the event's actor is `system:plugin.<plugin>`.
        text: the note (1-20,000 characters).
        internal: False shows it to the client (on the client trail and reports). It does not
            stop the ticket's respond clock: the response is a member's.

    Returns:
        The note as `GET /api/v1/tickets/<id>/notes` lists it (`author_id` null).

    Raises:
        psa_shared.errors.InvalidInput: a field refused (a blank text, say).
        psa_shared.errors.NotFound: no such ticket in that tenant.
    """
    data = _loaded(NoteSchema, {"text": text, "internal": internal})
    ticket = _id("ticket_id", ticket_id)
    with _as_integration(tenant_id, plugin):
        return NoteSchema().dump(notes.add_note(system_principal(), ticket, **data))


@contextlib.contextmanager
def _as_integration(tenant_id, plugin: str):
    """In tenant `tenant_id`'s scope, acting as `plugin`, connected: a webhook or event hook already
    has the request's (or worker's) connection, a CLI command may not. Each call commits on its own."""
    tenant = _id("tenant_id", tenant_id)
    connected = db.proxy.connection_context() if db.proxy.is_closed() else contextlib.nullcontext()
    with connected, tenancy.tenant_scope(tenant), tenancy.acting_as(f"system:plugin.{plugin}"):
        yield


def _id(name: str, value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput(errors={name: ["not a valid UUID"]}) from None


def _loaded(schema: type[ma.Schema], fields: dict) -> dict:
    """`fields` as the API's route reads them: its parser's refusals (a NUL or a lone surrogate,
    which no database stores: until 2026-11-28 SQLite kept a NUL, PostgreSQL answered 500), then its
    schema (tests/shared/test_plugin_tickets.py)."""
    try:
        if (refused := refused_string(fields)) is not None:
            raise ma.ValidationError({refused[0]: [refused[1]]})
        return schema().load(fields)
    except ma.ValidationError as error:
        raise InvalidInput(errors=flatten_errors(error.messages)) from None


def tenant_settings(tenant_id: uuid.UUID | str, plugin: str) -> dict | None:
    """Tenant `tenant_id`'s settings for `plugin`, as its `psa_tenant_settings_schema` loads them,
    with each `psa_shared.fields.EnvSecret` read from this process's environment now.

    Args:
        tenant_id: the tenant; take it from the event (`event.tenant_id`) or what your webhook's
            signature vouches for.
        plugin: the plugin's name (its `psa` entry point's).

    Returns:
        The settings (the schema's defaults, required fields absent, where the tenant's admin set
        none; `{}` for a plugin without a schema), or None when the tenant switched the plugin off:
        then do nothing for that tenant.

    Raises:
        psa_shared.fields.MissingSecret: a secret's environment variable is not set here; the
            error names the variable, never a value.
        psa_shared.fields.StaleSettings: what the tenant stored no longer fits the plugin's schema
            (a newer version dropped a field or made one required); names the plugin and the
            fields, never a value. Treat the tenant as not configured until its admin saves again.
        psa_shared.errors.NotFound: no plugin of that name runs in this process.
    """
    return settings_store.resolved(settings_store.plugins(), tenant_id, plugin)
