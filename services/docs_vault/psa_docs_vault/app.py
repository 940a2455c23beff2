"""The docs vault's app factory. It verifies tokens with the issuer's public keys only."""

from flask import Flask

from psa_shared.auth import KeyRing
from psa_shared.config import Settings
from psa_shared.web import create_service_app

from .database import db
from .projection import lookup_member


def create_app(settings: Settings) -> Flask:
    app = create_service_app(
        "docs_vault",
        db=db,
        keyring=KeyRing.load(settings, issuer=False),
        lookup=lookup_member,
        blueprints=[],
    )
    app.extensions["psa_settings"] = settings
    return app
