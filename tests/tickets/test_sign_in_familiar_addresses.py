"""Someone who knows the MSP's tenant id sprays passwords from a few public addresses until the
tenant's ceiling refuses every password sign-in, and guesses at the admin's email until her
account is locked. Anna, at the office address she signed in from last week, still gets in: an
address where an account signed in within 30 days is familiar to it, and attempts from there
count apart from the rest. Everyone else keeps the ceilings (docs/foundation.md, Identity and
access)."""

import datetime as dt

from psa_shared.tenancy import tenant_scope
from psa_tickets.directory import models
from psa_tickets.servicedesk import clock

from .test_sign_in_limit import LIMIT, MONDAY_9, configure, sign_in

OFFICE, ATTACKER, ATTACKER_2 = "100.1.2.10", "100.1.2.3", "100.9.9.9"  # public addresses
ANNA = "anna@msp.example"


def spray(psa, tenant, address: str, times: int, start: int = 0) -> list[int]:
    return [
        sign_in(psa, tenant, f"tech{n}@msp.example", "Summer2026!", address=address).status_code
        for n in range(start, start + times)
    ]


def test_a_sprayed_tenant_still_lets_anna_in_from_her_office_but_not_a_new_address(tenant, psa, monkeypatch):
    configure(psa, monkeypatch, PSA_SIGN_IN_TENANT_LIMIT=6)
    tenant.member("admin", email=ANNA)
    tenant.member("technician", email="tom@msp.example")
    with clock.travel(MONDAY_9 - dt.timedelta(days=7)):
        assert sign_in(psa, tenant, ANNA, address=OFFICE).status_code == 200  # last week, at the office
    with clock.travel(MONDAY_9):
        assert spray(psa, tenant, ATTACKER, 3) + spray(psa, tenant, ATTACKER_2, 3, start=3) == [401] * 6
        assert spray(psa, tenant, ATTACKER, 1, start=6) == [429]

        assert sign_in(psa, tenant, ANNA, address=OFFICE).status_code == 200
        assert sign_in(psa, tenant, ANNA, address="100.7.7.7").status_code == 429  # a hotel: unfamiliar
        assert sign_in(psa, tenant, "tom@msp.example", address=OFFICE).status_code == 429  # never in from there


def test_guessing_at_annas_email_locks_it_everywhere_but_her_familiar_address(tenant, psa):
    tenant.member("admin", email=ANNA)
    with clock.travel(MONDAY_9 - dt.timedelta(days=1)):
        assert sign_in(psa, tenant, ANNA, address=OFFICE).status_code == 200
    with clock.travel(MONDAY_9):
        guesses = [sign_in(psa, tenant, ANNA, f"guess {n}", address=ATTACKER).status_code for n in range(LIMIT)]
        assert guesses == [401] * LIMIT
        assert sign_in(psa, tenant, ANNA, address=ATTACKER).status_code == 429

        assert sign_in(psa, tenant, ANNA, address=OFFICE).status_code == 200
        assert sign_in(psa, tenant, ANNA, address=ATTACKER).status_code == 429  # her success forgave not theirs


def test_at_a_familiar_address_guesses_still_stop_at_ten(tenant, psa):
    """Whoever sits behind the office address (a colleague, malware on a PC) has its own ten."""
    tenant.member("admin", email=ANNA)
    assert sign_in(psa, tenant, ANNA, address=OFFICE).status_code == 200
    guesses = [sign_in(psa, tenant, ANNA, f"guess {n}", address=OFFICE).status_code for n in range(LIMIT + 1)]
    assert guesses == [401] * LIMIT + [429]


def test_an_address_is_familiar_for_30_days_after_the_last_sign_in_from_it(tenant, psa, monkeypatch):
    configure(psa, monkeypatch, PSA_SIGN_IN_TENANT_LIMIT=2)
    tenant.member("admin", email=ANNA)
    with clock.travel(MONDAY_9 - dt.timedelta(days=31)):
        assert sign_in(psa, tenant, ANNA, address=OFFICE).status_code == 200
    with clock.travel(MONDAY_9):
        assert spray(psa, tenant, ATTACKER, 2) == [401, 401]
        assert sign_in(psa, tenant, ANNA, address=OFFICE).status_code == 429  # a month and a day: forgotten
    with tenant_scope(tenant.id), psa.service("tickets").db.proxy.connection_context():
        assert models.SignInFamiliar.select().count() == 0  # pruned with the expired windows


def test_failed_sign_ins_and_private_addresses_make_nothing_familiar(tenant, psa, monkeypatch):
    configure(psa, monkeypatch, PSA_SIGN_IN_TENANT_LIMIT=3)
    tenant.member("admin", email=ANNA)
    assert sign_in(psa, tenant, ANNA, "guess", address=ATTACKER).status_code == 401
    assert sign_in(psa, tenant, ANNA, address="192.168.1.20").status_code == 200  # behind an unlisted proxy
    with tenant_scope(tenant.id), psa.service("tickets").db.proxy.connection_context():
        assert models.SignInFamiliar.select().count() == 0
    assert spray(psa, tenant, ATTACKER_2, 2) == [401] * 2  # the ceiling of 3 reached: the guess is still on it
    assert sign_in(psa, tenant, ANNA, address="192.168.1.20").status_code == 429


def test_a_familiar_address_of_one_msp_is_nothing_to_another(tenant, other_tenant, psa, monkeypatch):
    configure(psa, monkeypatch, PSA_SIGN_IN_TENANT_LIMIT=2)
    tenant.member("admin", email=ANNA)
    other_tenant.member("admin", email=ANNA)
    assert sign_in(psa, tenant, ANNA, address=OFFICE).status_code == 200
    assert [sign_in(psa, other_tenant, f"t{n}@o.example", "x", address=ATTACKER).status_code for n in range(2)] == [
        401,
        401,
    ]
    assert sign_in(psa, other_tenant, ANNA, address=OFFICE).status_code == 429
    assert sign_in(psa, tenant, ANNA, address=OFFICE).status_code == 200


def test_a_new_password_or_email_makes_no_address_familiar_any_more(tenant, psa, monkeypatch):
    """Anna's password leaked and was used from an intruder's address: once the admin sets a new
    one, that address (and every other) counts like any stranger's again."""
    configure(psa, monkeypatch, PSA_SIGN_IN_TENANT_LIMIT=2)
    anna = tenant.member("technician", email=ANNA)
    tom = tenant.member("technician", email="tom@msp.example")
    assert sign_in(psa, tenant, ANNA, address=ATTACKER).status_code == 200  # the intruder, with her password
    assert sign_in(psa, tenant, tom.email, address=OFFICE).status_code == 200

    assert tenant.api.patch(f"/api/v1/members/{anna.id}", json={"password": "a new long password"}).status_code == 200
    assert tenant.api.patch(f"/api/v1/members/{tom.id}", json={"email": "thomas@msp.example"}).status_code == 200
    with tenant_scope(tenant.id), psa.service("tickets").db.proxy.connection_context():
        assert models.SignInFamiliar.select().count() == 0
    assert spray(psa, tenant, ATTACKER_2, 2) == [401, 401]
    assert sign_in(psa, tenant, ANNA, "the old one", address=ATTACKER).status_code == 429
