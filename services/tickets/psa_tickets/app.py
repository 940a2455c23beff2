"""The tickets service's app factory."""

from flask import Flask

from psa_shared.auth import KeyRing
from psa_shared.config import Settings
from psa_shared.plugins import plugin_manager
from psa_shared.web import create_service_app

from .api import auth, boards, clients, members, reports, schedule, ticket_time, ticket_trail, tickets, work
from .api import plugin_settings as plugin_settings_api
from .api import projects as projects_api
from .api import settings as settings_api
from .database import db
from .directory.tokens import lookup_member
from .plugin_settings.tenant_settings import enabled


def create_app(settings: Settings) -> Flask:
    keyring = KeyRing.load(settings, issuer=True)
    plugins = plugin_manager(settings)
    app = create_service_app(
        "tickets",
        db=db,
        keyring=keyring,
        lookup=lookup_member,
        plugins=plugins,
        plugin_enabled=enabled,
        blueprints=[auth.blp, auth.jwks_blp, members.blp, clients.blp, clients.contacts_blp]
        + [projects_api.blp, projects_api.tasks_blp, schedule.blp, work.blp]
        + [reports.backlog_blp, reports.availability_blp, settings_api.blp, plugin_settings_api.blp]
        + [boards.blp, tickets.blp, ticket_time.blp, ticket_trail.blp, ticket_trail.client_reports_blp],
    )
    app.extensions["psa_keyring"] = keyring
    app.extensions["psa_settings"] = settings
    app.extensions["psa_plugins"] = plugins
    return app
