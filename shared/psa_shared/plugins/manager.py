"""Loading plugins: entry-point group `psa`, an allow-list, and strict checking at start-up."""

from __future__ import annotations

import logging

import pluggy

from ..config import Settings
from . import hookspecs

log = logging.getLogger(__name__)
hookimpl = pluggy.HookimplMarker("psa")
_in_process: list[tuple[object, str]] = []


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
