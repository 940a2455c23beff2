"""`psa tickets sweep`: the periodic auto-close pass over every tenant."""

import time

import click

from psa_shared.cli import bound_system

from ..database import db
from ..directory.models import Tenant
from .autoclose import sweep_tenant


@click.group("tickets")
def tickets_group():
    """Service-desk maintenance."""


@tickets_group.command("sweep")
@click.option("--every", type=int, default=None, help="Repeat every N seconds (a worker loop) instead of once.")
def sweep(every: int | None):
    """Auto-close waiting tickets whose board policy says so, in every tenant."""
    bound_system("tickets")
    while True:
        with db.proxy.connection_context():
            closed = sum(sweep_tenant(tenant.id) for tenant in Tenant.select(Tenant.id))
        click.echo(f"auto-closed {closed} ticket(s)")
        if not every:
            return
        time.sleep(every)
