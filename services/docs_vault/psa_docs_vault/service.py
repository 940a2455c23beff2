"""How the docs vault registers itself with PSA Core (`psa.services` entry point)."""

from psa_shared.services import Service

from . import audit, history, keys, models, offboarding, projection  # noqa: F401  (models: every table known before binding)
from .app import create_app
from .cli import vault
from .database import db, inbox, outbox


def handlers(settings) -> dict:
    return {
        **projection.handlers(settings),
        **history.HANDLERS,
        "member.deactivated": offboarding.on_member_deactivated,  # projection first, then rotation work
        "vault.key_rotated": keys.on_key_rotated,
    }


class VaultService(Service):
    def prepare_schema(self) -> None:
        """Tables, then the audit triggers: the chain head moves only through them."""
        super().prepare_schema()
        audit.install_guards()
        with self.db.proxy.connection_context():
            projection.add_revoked_at()


SERVICE = VaultService(
    name="docs_vault",
    prefixes=("/api/v1/configurations", "/api/v1/credentials", "/api/v1/audit", "/api/v1/reports/at-risk"),
    db=db,
    outbox=outbox,
    inbox=inbox,
    app_factory=create_app,
    handlers=handlers,
    commands=(vault,),
)
