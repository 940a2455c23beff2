"""Loading plugins: entry-point group `psa`, an allow-list, and strict checking at start-up."""

from __future__ import annotations

import contextlib
import logging
from contextvars import ContextVar
from importlib.metadata import entry_points

import pluggy

from .. import events
from ..config import Settings
from . import hookspecs

log = logging.getLogger(__name__)
hookimpl = pluggy.HookimplMarker("psa")
_in_process: list[tuple[object, str]] = []
EVENT_TYPES_GROUP = "psa.event_types"  # entry-point name: an event type; value: the plugin's module
_declarations_only: ContextVar[bool] = ContextVar("psa_plugin_declarations_only", default=False)


def register_plugin(plugin: object, name: str) -> None:
    """Load a plugin object in this process without an entry point (embedding apps, tests).

    It is subject to the same allow- and block-lists as installed plugins.
    """
    _in_process.append((plugin, name))


def unregister_plugin(name: str) -> None:
    _in_process[:] = [(p, n) for p, n in _in_process if n != name]


def plugin_manager(settings: Settings, *, allow_list_only: bool = False) -> pluggy.PluginManager:
    """Load installed plugins, honouring `PSA_PLUGINS` (allow-list) and `PSA_DISABLED_PLUGINS`.

    `allow_list_only` is for services that hold secrets (the docs vault): there, only plugins
    named in `PSA_PLUGINS` load at all. A misspelt hook name fails here, at start-up.
    """
    pm = pluggy.PluginManager("psa")
    pm.add_hookspecs(hookspecs)
    if _declarations_only.get():
        pm.register(_Declared(declared_event_types()), EVENT_TYPES_GROUP)
        return pm
    allowed = settings.plugins if settings.plugins is not None else (() if allow_list_only else None)
    for name in settings.disabled_plugins:
        pm.set_blocked(name)
    if allowed is None:
        pm.load_setuptools_entrypoints("psa")
    else:
        for name in allowed:
            pm.load_setuptools_entrypoints("psa", name=name)
    for plugin, name in _in_process:
        if name not in settings.disabled_plugins and (allowed is None or name in allowed):
            pm.register(plugin, name)
    pm.check_pending()
    for _plugin, dist in pm.list_plugin_distinfo():
        log.info("plugin loaded: %s-%s", dist.project_name, dist.version)
    return pm


def declared_event_types() -> list[str]:
    """The event types installed plugins declare they consume (entry-point group `psa.event_types`),
    read from their distributions' metadata: no plugin is imported. Whatever `PSA_PLUGINS` and
    `PSA_DISABLED_PLUGINS` say here: the process a plugin runs in has lists of its own, and a type
    bound for nothing there is acked and dropped by its consumer. A type the catalogue does not
    know is left out (logged): binding it would stop every worker from starting."""
    declared = sorted({ep.name for ep in entry_points(group=EVENT_TYPES_GROUP)})
    unknown = [name for name in declared if name not in events.CATALOGUE]
    if unknown:
        log.warning("plugins declare event types no service produces, not bound: %s", ", ".join(unknown))
    return [name for name in declared if name in events.CATALOGUE]


@contextlib.contextmanager
def declarations_only():
    """Inside, `plugin_manager` imports no plugin: one stand-in answers `psa_event_types` with what
    every installed plugin declares. For binding another service's queue from a process that may
    not run plugins (the vault's worker binds the tickets service's queue)."""
    token = _declarations_only.set(True)
    try:
        yield
    finally:
        _declarations_only.reset(token)


class _Declared:
    """Every installed plugin's declared event types, standing in where no plugin code runs."""

    def __init__(self, types: list[str]):
        self.types = types

    @hookimpl
    def psa_event_types(self) -> list[str]:
        return self.types
