"""Embedded mode killed outright loses no event. memory:// dies with the process while the outbox
holds what it carried as sent, so each service keeps a watermark under the data dir: a moment by
which every consumer in the process had applied all that was published before it. At the next
start, before the relays run, whatever the outbox marked published at or after it is marked
unpublished again and relayed once more; the consumers' inboxes skip what they had applied.

The moment and `published_at` come from one wall clock: a clock stepped back while serving could
put an event published after the moment before it. Power loss is not covered: SQLite
(`synchronous=normal`) may roll back a consumer's last commits after the watermark moved past
them. On RabbitMQ (durable queues, confirms) none of this runs."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

from .bus import Consumer, Relay
from .config import Settings
from .outbox import utcnow
from .services import Service

log = logging.getLogger(__name__)
EVERYTHING = dt.datetime.min


class Watermarks:
    """The watermark of each service this process relays for, in `<data dir>/consumed/<service>`."""

    def __init__(self, settings: Settings, services: list[Service]):
        self.folder = Path(settings.data_dir) / "consumed"
        self.services = services
        self.saved: dt.datetime | None = None

    def replay(self) -> int:
        """At start, before the relays run: events published since the watermark are unpublished
        again. Returns how many. A service without one yet (a new data dir, or one from before
        watermarks) starts from now: nothing it published earlier is known to have been lost."""
        now, replayed = utcnow(), 0
        for service in self.services:
            since = self._read(service.name)
            if since is not None:
                replayed += _unpublish(service, since)
        self._write(now)  # every row still marked published was applied: its moment preceded the old mark
        return replayed

    def advance(self, consumers: list[Consumer], relays: list[Relay]) -> None:
        """Move the watermark to the moment every consumer last caught up, if anything was relayed
        since it was saved (an idle system writes nothing)."""
        moments = [consumer.caught_up for consumer in consumers]
        if None in moments:
            return
        moment = min(moments, default=utcnow())  # no consumer here: nothing queued is ever applied
        sent = [relay.last_sent for relay in relays if relay.last_sent is not None]
        if self.saved is not None and (moment <= self.saved or not any(at >= self.saved for at in sent)):
            return
        self._write(moment)

    def _read(self, service: str) -> dt.datetime | None:
        path = self.folder / service
        try:
            return dt.datetime.fromisoformat(path.read_text().strip())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            log.warning("%s: unreadable watermark %s; relaying every event again", service, path)
            return EVERYTHING

    def _write(self, moment: dt.datetime) -> None:
        """Replaced whole and synced, so a crash leaves the old watermark or the new, never half."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for service in self.services:
            path, partial = self.folder / service.name, self.folder / f".{service.name}.partial"
            with open(partial, "w") as file:
                file.write(moment.isoformat())
                file.flush()
                os.fsync(file.fileno())
            os.replace(partial, path)
        directory = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        self.saved = moment


def _unpublish(service: Service, since: dt.datetime) -> int:
    db, model = service.outbox.db, service.outbox.model
    with db.proxy.connection_context(), db.proxy.atomic():
        count = model.update(published_at=None).where(model.published_at >= since).execute()
    if count:
        log.warning("%s: %d events relayed again (memory:// may have held them when it died)", service.name, count)
    return count
