"""Plugin host: pluggy project `psa`, hookspecs in `hookspecs`, loading in `manager`."""

from .manager import (
    declarations_only,
    declared_event_types,
    hookimpl,
    plugin_manager,
    register_plugin,
    unregister_plugin,
)

__all__ = [
    "declarations_only",
    "declared_event_types",
    "hookimpl",
    "plugin_manager",
    "register_plugin",
    "unregister_plugin",
]
