"""Plugin host: pluggy project `psa`, hookspecs in `hookspecs`, loading in `manager`."""

from .manager import hookimpl, plugin_manager, register_plugin, unregister_plugin

__all__ = ["hookimpl", "plugin_manager", "register_plugin", "unregister_plugin"]
