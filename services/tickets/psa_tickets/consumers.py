"""Events the tickets service consumes. Each handler runs inside a transaction and the event's tenant."""

from __future__ import annotations

import datetime as dt
import logging

from psa_shared.config import Settings
from psa_shared.events import Event
from psa_shared.projection import apply_newer

from .rotation import rotation_required
from .servicedesk.models import ConfigurationRef, TimeEntry

log = logging.getLogger(__name__)


def _naive_utc(text) -> dt.datetime:
    moment = text if isinstance(text, dt.datetime) else dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def configuration_changed(event: Event, payload: dict) -> None:
    """Keep the read model of the vault's configurations; an older update than what we hold is ignored."""
    values = {"client_id": payload["client_id"], "name": payload["name"], "deleted": not payload["active"]}
    apply_newer(ConfigurationRef, payload["id"], _naive_utc(payload["updated_at"]), values)


def invoice_posted(event: Event, payload: dict) -> None:
    """Posted entries become immutable here: edits and deletes answer 409 from now on. An entry
    already on another posted invoice stays on that one (no entry is billed twice; the UPDATE's
    own condition decides, so two postings at once cannot both take it), and is logged for
    billing to credit; so is an entry of another client than the invoice's (it stays unbilled,
    for its own client's invoice), a `non_billable` one (never on an invoice: it stays unbilled
    and editable; until 2026-11-28 it was locked as billed) and one not found (deleted meanwhile,
    or never ours). A `no_charge` entry is billed: it is on the invoice, at no charge."""
    ids, invoice, client = list(payload["time_entry_ids"]), payload["invoice_id"], payload["client_id"]
    if not ids:
        return
    on_ids = TimeEntry.id.in_(ids)
    TimeEntry.update(billed_invoice_id=invoice).where(
        on_ids
        & (TimeEntry.client_id == client)
        & (TimeEntry.billing != "non_billable")
        & TimeEntry.billed_invoice_id.is_null()
    ).execute()
    columns = (TimeEntry.id, TimeEntry.client_id, TimeEntry.billing, TimeEntry.billed_invoice_id)
    found = {e.id: e for e in TimeEntry.select(*columns).where(on_ids)}
    for entry_id in dict.fromkeys(ids):
        entry = found.get(entry_id)
        if entry is None:
            log.warning("time entry %s of invoice %s is unknown: nothing billed for it", entry_id, invoice)
        elif entry.client_id != client:
            log.warning(
                "time entry %s of invoice %s is not client %s's but %s's: left unbilled",
                entry_id, invoice, client, entry.client_id,
            )  # fmt: skip
        elif entry.billing == "non_billable":
            log.warning("time entry %s of invoice %s is non_billable: left unbilled", entry_id, invoice)
        elif entry.billed_invoice_id != invoice:
            log.warning(
                "time entry %s of invoice %s is already on posted invoice %s: left there",
                entry_id, invoice, entry.billed_invoice_id,
            )  # fmt: skip


def handlers(settings: Settings) -> dict:
    """Our own handlers. Plugins' `psa_on_event` run beside them in this service's worker, each on
    a queue, consumer and inbox record of its own (`Service.runs_plugins`): a plugin failing for
    good on `invoice.posted` dead-letters the event on its queue, and the entries are billed all
    the same (until 2026-11-27 the plugins shared this consumer's transaction, and the billing
    was rolled back and dead-lettered with them; tests/shared/test_plugin_queues.py)."""
    return dict(HANDLERS)


HANDLERS = {
    "configuration.created": configuration_changed,
    "configuration.updated": configuration_changed,
    "invoice.posted": invoice_posted,
    "vault.rotation_required": rotation_required,
}
