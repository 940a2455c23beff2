"""`psa tickets sweep`: the periodic auto-close pass over every tenant, also run by the tickets
worker every `PSA_TICKETS_SWEEP_SECONDS` (default 300)."""

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import click

from psa_shared.cli import bound_system
from psa_shared.config import Settings
from psa_shared.runtime import StartupError, periodic_loop
from psa_shared.services import Periodic

from ..database import db
from ..directory.models import Tenant
from .autoclose import sweep_tenant

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Swept:
    """One pass over every tenant, as the worker logs it and `psa tickets sweep` prints it."""

    closed: int
    failed: int

    def __str__(self) -> str:
        failed = f", {self.failed} tenant(s) failed (logged)" if self.failed else ""
        return f"auto-closed {self.closed} ticket(s){failed}"


def sweep_all() -> Swept:
    """Auto-close in every tenant; a tenant whose pass fails is logged and the others still run."""
    closed, failed = 0, 0
    with db.proxy.connection_context():
        tenant_ids = [tenant.id for tenant in Tenant.select(Tenant.id)]
        for tenant_id in tenant_ids:
            try:
                closed += sweep_tenant(tenant_id)
            except Exception:  # noqa: BLE001  (one tenant's failure must not stop the others' auto-close)
                failed += 1
                log.exception("auto-close sweep failed for tenant %s", tenant_id)
    return Swept(closed, failed)


def sweep_seconds(settings: Settings) -> float:
    """`PSA_TICKETS_SWEEP_SECONDS`, refused at start unless a number of seconds above 0: until
    2026-11-28 a 0 or less swept in a tight loop, and a word stopped the worker with a bare ValueError."""
    value = settings.get("PSA_TICKETS_SWEEP_SECONDS", "300")
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:  # nan compares false: refused too
        raise StartupError(f"PSA_TICKETS_SWEEP_SECONDS must be a number of seconds above 0, not {value!r}")
    return seconds


def sweep_job(settings: Settings) -> tuple[Periodic, ...]:
    return (Periodic("tickets-sweep", sweep_seconds(settings), sweep_all),)


@click.group("tickets")
def tickets_group():
    """Service-desk maintenance."""


@tickets_group.command("sweep")
@click.option(
    "--every", type=click.IntRange(min=1), default=None, help="Repeat every N seconds (a worker loop) instead of once."
)
def sweep(every: int | None):
    """Auto-close waiting tickets whose board policy says so, in every tenant. A single pass exits 1
    when a tenant's pass failed, so a cron job can tell."""
    # A cron job run from the wrong directory made a fresh ./var and closed nothing, each time;
    # binding would make that database before the check could refuse it.
    url = Settings.from_env().database_url("tickets")
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise click.ClickException(f"no tickets database at {url}: is PSA_DATA_DIR (or its URL) the server's?")
    bound_system("tickets")
    with db.proxy.connection_context():
        if not Tenant.select().exists():
            raise click.ClickException("no tenant in the tickets database: is PSA_DATA_DIR (or its URL) the server's?")
    if not every:
        swept = sweep_all()
        click.echo(str(swept))
        if swept.failed:  # until 2026-11-28 it exited 0, and a cron job never learnt of it
            raise SystemExit(1)
        return
    loop = periodic_loop(Periodic("tickets-sweep", every, lambda: click.echo(sweep_all())))
    try:
        loop.run()  # in this thread, until Ctrl-C
    except KeyboardInterrupt:
        loop.stop()
