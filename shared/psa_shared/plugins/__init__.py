"""Plugin host: pluggy project `psa`, hookspecs in `hookspecs`, loading in `manager`, which plugin
hears which events (one queue each) in `delivery`."""

from .delivery import Listener, SwitchedOff, listeners, queue_name
from .manager import (
    declarations_only,
    declared_event_types,
    declared_plugins,
    hookimpl,
    loaded_plugins,
    plugin_manager,
    register_plugin,
    registered,
    tenant_settings_schema,
    unregister_plugin,
)

__all__ = [
    "Listener",
    "SwitchedOff",
    "declarations_only",
    "declared_event_types",
    "declared_plugins",
    "hookimpl",
    "listeners",
    "loaded_plugins",
    "plugin_manager",
    "queue_name",
    "register_plugin",
    "registered",
    "tenant_settings_schema",
    "unregister_plugin",
]
