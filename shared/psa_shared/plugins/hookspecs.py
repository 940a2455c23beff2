"""The hooks partners build on. Each is a public API: typed, documented, prefixed `psa_`.

Implement them with `@psa_shared.plugins.hookimpl` in a module registered under the `psa`
entry-point group of your distribution (`[project.entry-points.psa] myplugin = "my_pkg.plugin"`).
"""

from __future__ import annotations

import click
import flask
import marshmallow
import pluggy

hookspec = pluggy.HookspecMarker("psa")


# --- command line --------------------------------------------------------------------------------


@hookspec
def psa_register_cli_commands(cli: click.Group) -> None:
    """Add commands to the `psa` command line.

    Args:
        cli: the root `psa` click group; call `cli.add_command(...)` on it.
    """


# --- web -------------------------------------------------------------------------------------------


@hookspec
def psa_register_blueprints() -> list[tuple[str, flask.Blueprint]]:
    """Contribute web endpoints, such as an RMM alert webhook.

    Returns:
        `(name, blueprint)` pairs; each blueprint is mounted at `/api/v1/plugins/<name>/` by the
        tickets service. Requests there are authenticated and tenant-scoped like any other,
        unless the view is decorated with `psa_shared.web.public` (then it must check its own
        signature, e.g. a webhook secret from the environment). A `psa_shared.web.Blueprint`
        (flask-smorest's, as the services use) has its views documented in the service's OpenAPI
        document (`/openapi/tickets.json`) with their `@arguments` and `@response` schemas; a plain
        `flask.Blueprint` works the same but is left out of it. To open a ticket from a view with no
        member behind it, call `psa_tickets.plugin_api.open_ticket`. An authenticated view answers
        404 to a tenant that switched the plugin off; a public one is the plugin's to refuse
        (`psa_tickets.plugin_api.tenant_settings` returns None for that tenant).
    """


# --- settings --------------------------------------------------------------------------------------


@hookspec
def psa_tenant_settings_schema() -> type[marshmallow.Schema]:
    """The schema of one tenant's settings for this plugin.

    A tenant admin sets them with `PUT /api/v1/settings/plugins/<name>` (`{"enabled": true,
    "settings": {...}}`), validated by this schema: a refused field answers 422 naming it as
    `settings.<field>`. A tenant with none stored gets each field's `load_default` (a required
    field is absent until the admin sets it: `{}` is not loaded).
    A secret is a `psa_shared.fields.EnvSecret` field: the tenant gives the name of an environment
    variable holding it (`{"env": "ACME_RMM_SECRET_DENTAL"}`), which is stored as that reference,
    never the value. Read them with `psa_tickets.plugin_api.tenant_settings(tenant_id, plugin)`,
    which resolves each secret from the environment at that call, and raises
    `psa_shared.fields.StaleSettings` when what a tenant stored no longer fits a newer version of
    this schema (the settings API lists those fields in `stale_fields` until an admin saves again).

    Returns:
        A `marshmallow.Schema` subclass (the class, not an instance: anything else is refused when
        the plugin is loaded, naming it, as a misspelt hook is). A plugin without the hook has no
        settings; it can still be switched off per tenant.
    """


# --- events ----------------------------------------------------------------------------------------


@hookspec
def psa_event_types() -> list[str]:
    """Name the event types this plugin wants delivered to `psa_on_event`.

    Declare the same types in your distribution's metadata, one entry point per type under the
    group `psa.event_types` (`"ticket.created" = "my_pkg.plugin"`, the value your `psa` entry
    point has: it says which plugin, and so which queue, the type is for): every worker reads
    those without importing the plugin and binds them to your plugin's queue before it relays, so
    an event is kept even when another service's worker (the vault's, where no plugin runs)
    relays it before yours started.

    Returns:
        Event types from the catalogue (`psa_shared.events.CATALOGUE`), e.g. `["ticket.created"]`.
        A type the catalogue does not have is logged, naming your plugin, and left out.
    """


@hookspec
def psa_on_event(event, payload: dict) -> None:
    """React to an event, in the tickets service's event worker, never in a request.

    Each plugin has a queue of its own, `<prefix>plugin.<name>.events` (`<name>`: its `psa`
    entry point's name), bound for the types its `psa_event_types` names and its metadata
    declares, with its own consumer and dead-letter queue (`...events.dlq`). It is called inside
    the event's tenant, outside any transaction (a call to a slow outside API holds up no ticket
    save), and once it returns the event is recorded as applied for this plugin alone (an event
    of a tenant that switched the plugin off is recorded so without calling it). The
    tickets service's own handling of the event and every other plugin's keep records of their
    own, and commit whether this plugin succeeds or fails.

    Args:
        event: the `psa_shared.events.Event` envelope (tenant, actor, correlation id, ...).
        payload: the payload as the current schema version loads it.

    Raising records nothing, and the event is delivered to this plugin again, 5 times in
    all, one right after the other (no pause: an outage of the system you call longer than a
    moment dead-letters what comes meanwhile, so catch and wait inside the call if yours has
    short ones), then moved to its dead letters (its dead-letter queue; in embedded mode the
    tickets database), from where `psa events replay plugin.<name>` applies it again once the
    cause is fixed: a failing plugin never fails a ticket save, nor
    the service's own effect of the event (time entries billed on `invoice.posted`), nor another
    plugin. Once this call has returned and the record committed, a redelivery is skipped.
    Implementations must still be idempotent: a call that returned just before a crash, or two
    copies of one event taken at once by two workers, call again.
    """
