"""How the tickets service registers itself with PSA Core (`psa.services` entry point)."""

from psa_shared.services import Service

from . import cli, consumers, demo, models  # noqa: F401  (models: every table known before binding)
from .app import create_app
from .database import db, inbox, outbox
from .plugin_settings.tenant_settings import enabled
from .servicedesk.commands import sweep_job, tickets_group

SERVICE = Service(
    name="tickets",
    prefixes=(
        "/api/v1/auth",
        "/api/v1/members",
        "/api/v1/clients",
        "/api/v1/contacts",
        "/api/v1/tickets",
        "/api/v1/boards",
        "/api/v1/settings/business-hours",
        "/api/v1/settings/plugins",
        "/api/v1/projects",
        "/api/v1/tasks",
        "/api/v1/schedule",
        "/api/v1/work",
        "/api/v1/reports/backlog",
        "/api/v1/reports/availability",
        "/api/v1/plugins",
        "/.well-known",
    ),
    db=db,
    outbox=outbox,
    inbox=inbox,
    app_factory=create_app,
    handlers=consumers.handlers,
    commands=(cli.tenant_group, cli.token_group, tickets_group),
    on_first_run=demo.seed,
    periodic=sweep_job,
    runs_plugins=True,
    plugin_enabled=enabled,
)
