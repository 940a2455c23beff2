"""Loading plugins: entry-point group `psa`, an allow-list, and strict checking at start-up."""

from __future__ import annotations

import contextlib
import logging
from contextvars import ContextVar
from importlib.metadata import entry_points

import marshmallow as ma
import pluggy

from .. import events
from ..config import Settings
from . import hookspecs

log = logging.getLogger(__name__)
hookimpl = pluggy.HookimplMarker("psa")
_in_process: list[tuple[object, str]] = []
_warned: set[tuple[str, str]] = set()  # unknown names in PSA_PLUGINS / PSA_DISABLED_PLUGINS, logged
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
        return pm  # no plugin: see `declarations_only`
    allowed = settings.plugins if settings.plugins is not None else (() if allow_list_only else None)
    _warn_unknown_names(settings)
    for name in settings.disabled_plugins:
        pm.set_blocked(name)
    # in-process first: pluggy then skips an installed plugin of the same name, which the object
    # replaces (until 2026-11-28 a test registering an installed plugin failed on "Plugin name
    # already registered"; tests/shared/test_plugin_fixtures.py)
    for plugin, name in _in_process:
        if name not in settings.disabled_plugins and (allowed is None or name in allowed):
            pm.register(plugin, name)
    if allowed is None:
        pm.load_setuptools_entrypoints("psa")
    else:
        for name in allowed:
            pm.load_setuptools_entrypoints("psa", name=name)
    _check_hook_names(pm)
    _check_settings_schemas(pm)
    for _plugin, dist in pm.list_plugin_distinfo():
        log.info("plugin loaded: %s-%s", dist.project_name, dist.version)
    return pm


def registered() -> tuple[tuple[str, int], ...]:
    """The plugins registered in-process (`register_plugin`), by name and object id: a key for a
    cache of plugin managers, which changes when a test registers another."""
    return tuple((name, id(plugin)) for plugin, name in _in_process)


def loaded_plugins(pm: pluggy.PluginManager) -> list[str]:
    """The names of the plugins a manager loaded (not those it blocked), sorted."""
    return sorted(name for name, plugin in pm.list_name_plugin() if plugin is not None)


def tenant_settings_schema(pm: pluggy.PluginManager, name: str) -> type[ma.Schema] | None:
    """Plugin `name`'s `psa_tenant_settings_schema`, called for that plugin alone (as
    `delivery` calls `psa_on_event`); None if it has no such hook. Raises KeyError if it is not loaded."""
    plugin = pm.get_plugin(name)
    if plugin is None:
        raise KeyError(name)
    others = [p for p in pm.get_plugins() if p is not plugin]
    found = pm.subset_hook_caller("psa_tenant_settings_schema", others)()
    return found[0] if found else None


def _check_hook_names(pm: pluggy.PluginManager) -> None:
    """pluggy's `check_pending`, its error naming the plugin as it is loaded (pluggy names only the
    plugin object: a module, `<... object at 0x...>`) and the hooks there are."""
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as error:
        known = ", ".join(sorted(n for n in vars(hookspecs) if n.startswith("psa_")))
        message = f"plugin {pm.get_name(error.plugin)!r}: {error} (the hooks: {known})"
        raise pluggy.PluginValidationError(error.plugin, message) from None


def _check_settings_schemas(pm: pluggy.PluginManager) -> None:
    """Each `psa_tenant_settings_schema` returns a Schema class, or the plugin is refused here, as a
    misspelt hook is: until 2026-11-28 one returning an instance made the settings list a 500 for
    every tenant, other plugins' settings with it (tests/shared/test_plugin_schema_checks.py)."""
    for name in loaded_plugins(pm):
        schema = tenant_settings_schema(pm, name)
        if schema is not None and not (isinstance(schema, type) and issubclass(schema, ma.Schema)):
            message = (
                f"plugin {name!r}: psa_tenant_settings_schema must return a marshmallow.Schema subclass, not {schema!r}"
            )
            raise pluggy.PluginValidationError(pm.get_plugin(name), message)


def _warn_unknown_names(settings: Settings) -> None:
    """A name in the lists that no plugin here has is most often a distribution's name given for
    its entry point's (`acme-rmm` for `acme_rmm`): it would be ignored without a word, the plugin
    loading where it was blocked, or missing where it was allowed."""
    installed = {ep.name for ep in entry_points(group="psa")} | {name for _plugin, name in _in_process}
    lists = {"PSA_PLUGINS": settings.plugins or (), "PSA_DISABLED_PLUGINS": settings.disabled_plugins}
    for variable, names in lists.items():
        unknown = ", ".join(sorted(set(names) - installed))
        if unknown and (variable, unknown) not in _warned:  # once: the app, workers and CLI each build one
            _warned.add((variable, unknown))
            log.warning("%s names no installed plugin: %s (installed, by entry-point name: %s)", variable,
                        unknown, ", ".join(sorted(installed)) or "none")  # fmt: skip


def declared_event_types() -> list[str]:
    """The event types installed plugins declare they consume (entry-point group `psa.event_types`),
    read from their distributions' metadata: no plugin is imported. See `declared_plugins`."""
    return sorted({name for types in declared_plugins().values() for name in types})


def declared_plugins() -> dict[str, list[str]]:
    """Each installed plugin that declares event types, by name, and the types it declares.

    Read from metadata alone, no plugin imported: an entry under `psa.event_types` (name: the
    type, value: the plugin's module) is the plugin's whose `psa` entry point has that value, and
    the plugin's name is that entry point's name, the one pluggy registers it under and
    `PSA_PLUGINS` / `PSA_DISABLED_PLUGINS` name (its queue is named after it). Whatever those
    lists say here: the process a plugin runs in has lists of its own, and a type bound for a
    plugin that does not run there is acked and dropped by its consumer. Left out, logged: a type
    the catalogue does not know (binding it would stop every worker from starting), and a value
    no `psa` entry point has (no plugin would ever consume its queue)."""
    plugins = {ep.value: ep.name for ep in entry_points(group="psa")}
    declared: dict[str, set[str]] = {}
    unknown, orphans = set(), set()
    for ep in entry_points(group=EVENT_TYPES_GROUP):
        if ep.name not in events.CATALOGUE:
            unknown.add(ep.name)
        elif ep.value not in plugins:
            orphans.add(ep.value)
        else:
            declared.setdefault(plugins[ep.value], set()).add(ep.name)
    if unknown:
        log.warning("plugins declare event types no service produces, not bound: %s", ", ".join(sorted(unknown)))
    if orphans:
        orphaned = ", ".join(sorted(orphans))
        log.warning("event types declared for modules no `psa` entry point has, not bound: %s", orphaned)
    return {name: sorted(types) for name, types in sorted(declared.items())}


@contextlib.contextmanager
def declarations_only():
    """Inside, `plugin_manager` imports no plugin, and `psa_shared.plugins.delivery.listeners`
    answers with what installed plugins declare in their metadata. For binding another service's
    queues from a process that may not run plugins (the vault's worker binds the plugins' queues)."""
    token = _declarations_only.set(True)
    try:
        yield
    finally:
        _declarations_only.reset(token)


def only_declarations() -> bool:
    """Whether this is inside `declarations_only()`."""
    return _declarations_only.get()
