"""The demo tenant `make run` makes: only on an embedded install that had no tenant, and every
restart of that install prints how to sign in to it again. Until 2026-11-28 it was made on any
install without one named "Demo MSP", an MSP's own on PostgreSQL and RabbitMQ (`make up`) too,
and every start printed a 12-hour admin token for it into the logs."""

import pytest

from psa_tickets import demo
from psa_tickets.directory.models import Tenant
from psa_tickets.testing import make_tenant


def _tenant_names(psa) -> list[str]:
    with psa.service("tickets").db.proxy.connection_context():
        return sorted(t.name for t in Tenant.select())


def test_no_demo_tenant_on_an_install_an_msp_already_uses(tenant, psa):
    assert psa.first_run() == []
    assert _tenant_names(psa) == ["Acme MSP"]


def test_no_demo_tenant_in_production_mode_even_when_empty(psa):
    if psa.settings.embedded:
        pytest.skip("production mode: PostgreSQL and RabbitMQ (`make up`)")
    assert psa.first_run() == []
    assert _tenant_names(psa) == []


def test_make_run_restarted_prints_how_to_sign_in_to_the_demo_again(psa):
    if not psa.settings.embedded:
        pytest.skip("`make run`: the embedded install")
    (first,) = psa.first_run()
    (again,) = psa.first_run()

    assert "password " in first and "token (12 h)" in first
    assert "the password printed on first run" in again and "token (12 h)" in again
    assert _tenant_names(psa) == [demo.DEMO_TENANT]


def test_the_demo_goes_quiet_once_the_msp_adds_its_own_tenant(psa):
    if not psa.settings.embedded:
        pytest.skip("`make run`: the embedded install")
    assert len(psa.first_run()) == 1

    make_tenant(psa, "Acme MSP")  # `psa tenant create`: the install is in use, its logs no place for tokens

    assert psa.first_run() == []
    assert _tenant_names(psa) == ["Acme MSP", demo.DEMO_TENANT]
