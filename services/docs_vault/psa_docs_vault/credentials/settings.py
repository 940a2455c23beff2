"""The tenant's vault rules: how many reveals a member may make per hour, and whether a reason is required."""

from psa_shared.errors import field_error
from psa_shared.events import utc_iso
from psa_shared.records import apply_changes, touch
from psa_shared.tenancy import current_tenant

from .. import audit
from ..database import db, emit
from .models import VaultSettings

DEFAULTS = {"reveal_limit_per_hour": 60, "reason_required": False}


def current() -> dict:
    row = VaultSettings.get_or_none(VaultSettings.id == current_tenant())
    return dict(DEFAULTS) if row is None else _rules(row)


def _rules(row: VaultSettings) -> dict:
    return {"reveal_limit_per_hour": row.reveal_limit_per_hour, "reason_required": row.reason_required}


def columns() -> tuple:
    """The rules as columns to read along with another query (NULL where the defaults hold)."""
    query = VaultSettings.select(VaultSettings.reveal_limit_per_hour).where(VaultSettings.id == current_tenant())
    return (
        query.alias("reveal_limit_per_hour"),
        query.select(VaultSettings.reason_required).alias("reason_required"),
    )


def from_columns(row) -> dict:
    """The rules `columns()` read onto `row`."""
    limit, required = row.reveal_limit_per_hour, row.reason_required
    return {
        "reveal_limit_per_hour": DEFAULTS["reveal_limit_per_hour"] if limit is None else int(limit),
        "reason_required": DEFAULTS["reason_required"] if required is None else bool(required),
    }


def check_reason(rules: dict, reason: str | None) -> None:
    """422 naming `reason` when the tenant requires one and none was given (only spaces is none)."""
    if rules["reason_required"] and not (reason or "").strip():
        raise field_error("reason", "this tenant requires a reason to reveal a secret")


def update(ctx: audit.Context, **changes) -> dict:
    """Change the rules; the change is itself an audit row (a raised limit is worth knowing about).
    The row is held while its change is stamped, so of two at once the later sends the later version."""
    with db.proxy.atomic():
        VaultSettings.insert(id=current_tenant()).on_conflict_ignore().execute()
        row = db.locked(VaultSettings.select().where(VaultSettings.id == current_tenant())).get()
        apply_changes(row, changes)
        touch(row)
        row.save()
        audit.append(ctx, "settings", "allowed")
        emit("vault.settings_changed", {**_rules(row), "updated_at": utc_iso(row.updated_at)})
    return _rules(row)
