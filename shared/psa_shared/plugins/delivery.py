"""Which plugins get events, and for which types: one listener (and so one queue) per plugin."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
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

    def where_enabled(self, enabled: Callable[..., bool]) -> Listener:
        """This listener, its handlers skipping an event of a tenant that had the plugin switched off
        when the event occurred, or has it off now (`enabled(tenant_id, plugin, at=None)`: whether it
        is on now and, with `at`, was on then; asked inside the event's tenant scope). They raise
        `SwitchedOff`: the consumer records the event applied for the plugin, not retried nor
        dead-lettered; a replay keeps a dead letter whose tenant has the plugin off now."""

        def gated(handle: Callable) -> Callable:
            def handle_if_enabled(event, payload: dict) -> None:
                if enabled(event.tenant_id, self.name, at=occurred_at(event)):
                    handle(event, payload)
                else:  # a second query for an event skipped alone: off now (a dead letter is kept), or then
                    raise SwitchedOff(self.name, event, now=not enabled(event.tenant_id, self.name))

            return handle_if_enabled

        return dataclasses.replace(self, handlers={t: gated(h) for t, h in self.handlers.items()})


class SwitchedOff(Exception):
    """A plugin's handler skipping an event because its tenant has the plugin switched off (`now`),
    or had it off when the event occurred (the backlog of a stopped worker, delivered after the
    switch-on, or the plugin's own switch-off)."""

    def __init__(self, plugin: str, event, *, now: bool):
        self.now = now
        was, when = ("is", "") if now else ("was", f" when it occurred ({event.occurred_at})")
        super().__init__(f"plugin {plugin} {was} switched off for tenant {event.tenant_id}{when}")


def occurred_at(event) -> dt.datetime:
    """When the event occurred, as the database keeps moments: naive UTC."""
    return dt.datetime.fromisoformat(event.occurred_at).astimezone(dt.UTC).replace(tzinfo=None)


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
