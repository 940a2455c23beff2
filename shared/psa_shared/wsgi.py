"""WSGI entry for gunicorn: `gunicorn "psa_shared.wsgi:create_app('tickets')"` (one service),
or `create_app()` for every installed service behind one router. Binds at worker start."""

from .config import Settings
from .runtime import System
from .services import discover_services


def create_app(service: str | None = None):
    services = [s for s in discover_services() if service in (None, s.name)]
    if not services:
        raise LookupError(f"no installed service named {service!r}")
    return System(Settings.from_env(), services).bind().serving_wsgi()
