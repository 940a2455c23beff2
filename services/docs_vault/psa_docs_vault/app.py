"""The docs vault's app factory. It verifies tokens with the issuer's public keys only."""

from flask import Flask

from psa_shared.auth import KeyRing
from psa_shared.config import Settings
from psa_shared.web import create_service_app

from . import keys
from .api import audit as audit_api
from .api import configurations
from .api import credentials as credentials_api
from .api import reports as reports_api
from .database import db
from .projection import lookup_member


def create_app(settings: Settings) -> Flask:
    keys.configure(settings)  # fail at start-up, not at the first reveal, without a master key
    app = create_service_app(
        "docs_vault",
        db=db,
        keyring=KeyRing.load(settings, issuer=False),
        lookup=lookup_member,
        blueprints=[
            configurations.blp,
            configurations.files_blp,
            credentials_api.blp,
            audit_api.blp,
            reports_api.blp,
        ],
    )
    app.extensions["psa_settings"] = settings
    return app
