"""Which plugins get events, and for which types: one listener (and so one queue) per plugin."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from .. import events
from ..config import Settings
from .manager import declared_plugins, only_declarations, plugin_manager

log = logging.getLogger(__name__)


def queue_name(plugin: str) -> str:
    """The consumer (and queue, `<prefix>plugin.<name>.events`) of plugin `name`: its `psa` entry
    point's name, so metadata gives it without importing the plugin, and pluggy's name for it."""
    return f"plugin.{plugin}"


@dataclass(frozen=True)
class Listener:
    """One plugin's share of the events.

    Args:
        name: the plugin's name (`psa` entry point, or `register_plugin`'s).
        binds: the types its queue is bound for: those its metadata declares and its
            `psa_event_types` names.
        handlers: `{type: handler(event, payload)}` calling its `psa_on_event` alone, for the types
            its hook names; empty where it does not run (blocked, not allow-listed, or only
            declared here), and then its consumer acks and drops what its queue holds.
    """

    name: str
    binds: frozenset[str]
    handlers: dict[str, Callable]

    def where_enabled(self, enabled: Callable[[uuid.UUID, str], bool]) -> Listener:
        """This listener, its handlers skipping an event whose tenant has switched the plugin off
        (`enabled(tenant_id, plugin)` is False; asked inside the event's tenant scope): the
        event is then recorded as applied for the plugin, not retried nor dead-lettered."""

        def gated(handle: Callable) -> Callable:
            def handle_if_enabled(event, payload: dict) -> None:
                if enabled(event.tenant_id, self.name):
                    handle(event, payload)
                else:
                    log.info("plugin %s is switched off for tenant %s: %s %s skipped", self.name,
                             event.tenant_id, event.type, event.id)  # fmt: skip

            return handle_if_enabled

        return dataclasses.replace(self, handlers={t: gated(h) for t, h in self.handlers.items()})


def listeners(settings: Settings) -> list[Listener]:
    """The plugins this process delivers events to, and those whose metadata declares types but
    which do not run here (their queues are bound all the same, so nothing is lost before the
    process they run in starts)."""
    declared = declared_plugins()
    found = {} if only_declarations() else _loaded(settings, declared)
    for name, types in declared.items():
        found.setdefault(name, Listener(name, frozenset(types), {}))
    return [found[name] for name in sorted(found)]


def _loaded(settings: Settings, declared: dict[str, list[str]]) -> dict[str, Listener]:
    plugins = plugin_manager(settings)
    found = {}
    for impl in plugins.hook.psa_on_event.get_hookimpls():
        others = [p for p in plugins.get_plugins() if p is not impl.plugin]
        # through pluggy (its argument and wrapper rules), the plugin alone
        types = {t for names in plugins.subset_hook_caller("psa_event_types", others)() for t in names}
        if unknown := types - events.CATALOGUE.keys():  # a typo must not stop every other consumer
            log.warning("plugin %s names event types no service produces, left out: %s", impl.plugin_name,
                        ", ".join(sorted(unknown)))  # fmt: skip
            types -= unknown
        call = plugins.subset_hook_caller("psa_on_event", others)

        def handle(event, payload: dict, call=call) -> None:
            call(event=event, payload=payload)

        binds = frozenset(types | set(declared.get(impl.plugin_name, ())))
        if binds:  # a plugin naming no type gets no queue: nothing would ever come
            found[impl.plugin_name] = Listener(impl.plugin_name, binds, dict.fromkeys(types, handle))
    return found
