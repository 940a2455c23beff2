"""Someone guesses passwords at the MSP's admin, whose account can reveal every client's passwords:
after ten wrong ones in fifteen minutes the account's sign-ins are refused (429) without a
password check, until the window passes. Nobody else is locked out, and an email that names
nobody is treated the same (docs/foundation.md, Identity and access)."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from psa_shared.tenancy import tenant_scope
from psa_tickets.directory import tokens
from psa_tickets.directory.models import SignInFailure
from psa_tickets.servicedesk import clock

LIMIT, WINDOW = 10, dt.timedelta(minutes=15)  # the documented figures
PASSWORD = "correct horse battery"
MONDAY_9 = dt.datetime(2026, 3, 2, 9, 0)


def sign_in(psa, tenant, email: str, password: str = PASSWORD):
    return psa.http.post("/api/v1/auth/token", json={"tenant": tenant.id, "email": email, "password": password})


def guess_wrong(psa, tenant, email: str, times: int = LIMIT) -> list[int]:
    return [sign_in(psa, tenant, email, f"guess {n}").status_code for n in range(times)]


def test_ten_wrong_guesses_lock_the_admin_out_and_the_right_password_then_gets_no_token(tenant, psa, monkeypatch):
    tenant.member("admin", email="anna@msp.example")
    assert guess_wrong(psa, tenant, "anna@msp.example", LIMIT - 1) == [401] * (LIMIT - 1)
    assert sign_in(psa, tenant, "ANNA@msp.example", "guess 10").status_code == 401  # the same account

    checked = []
    monkeypatch.setattr(tokens, "check_password", lambda *args: checked.append(args) or True)
    refused = sign_in(psa, tenant, "anna@msp.example")

    assert refused.status_code == 429, refused.json
    assert refused.content_type == "application/problem+json"
    assert "access_token" not in refused.json
    assert 0 < int(refused.headers["Retry-After"]) <= WINDOW.total_seconds()
    assert checked == []  # locked out before the slow check: a right guess is not even tried


def test_a_locked_out_admin_leaves_colleagues_and_the_same_email_at_another_msp_signing_in(tenant, other_tenant, psa):
    tenant.member("admin", email="anna@msp.example")
    colleague = tenant.member("technician", email="tom@msp.example")
    namesake = other_tenant.member("technician", email="anna@msp.example")
    guess_wrong(psa, tenant, "anna@msp.example")
    assert sign_in(psa, tenant, "anna@msp.example").status_code == 429

    assert sign_in(psa, tenant, colleague.email).status_code == 200
    assert sign_in(psa, other_tenant, namesake.email).status_code == 200
    assert sign_in(psa, other_tenant, namesake.email, "wrong").status_code == 401  # its own count, at one


def test_an_email_that_names_nobody_is_limited_alike_so_answers_never_tell_who_exists(tenant, psa):
    tenant.member("admin", email="anna@msp.example")
    real = [sign_in(psa, tenant, "anna@msp.example", f"guess {n}") for n in range(LIMIT + 1)]
    ghost = [sign_in(psa, tenant, "ghost@msp.example", f"guess {n}") for n in range(LIMIT + 1)]

    assert [r.status_code for r in real] == [r.status_code for r in ghost] == [401] * LIMIT + [429]
    assert [r.json for r in real] == [r.json for r in ghost]
    assert abs(int(real[-1].headers["Retry-After"]) - int(ghost[-1].headers["Retry-After"])) <= 1  # a second ticks


def test_signing_in_before_the_limit_forgives_the_typos(tenant, psa):
    tenant.member("admin", email="anna@msp.example")
    assert guess_wrong(psa, tenant, "anna@msp.example", LIMIT - 1) == [401] * (LIMIT - 1)
    assert sign_in(psa, tenant, "anna@msp.example").status_code == 200

    assert guess_wrong(psa, tenant, "anna@msp.example", LIMIT - 1) == [401] * (LIMIT - 1)
    assert sign_in(psa, tenant, "anna@msp.example").status_code == 200


def test_the_lockout_ends_by_itself_when_the_window_passes_however_often_it_is_knocked_on(tenant, psa):
    tenant.member("admin", email="anna@msp.example")
    with clock.travel(MONDAY_9):
        guess_wrong(psa, tenant, "anna@msp.example")
        first = sign_in(psa, tenant, "anna@msp.example")
        assert first.status_code == 429 and first.headers["Retry-After"] == str(int(WINDOW.total_seconds()))
    with clock.travel(MONDAY_9 + dt.timedelta(minutes=10)):  # the attacker keeps trying; it is not counted
        knocked = sign_in(psa, tenant, "anna@msp.example", "guess 11")
        assert knocked.status_code == 429 and knocked.headers["Retry-After"] == str(5 * 60)
    with clock.travel(MONDAY_9 + WINDOW):
        assert sign_in(psa, tenant, "anna@msp.example").status_code == 200


def test_a_burst_of_parallel_guesses_gets_no_more_than_ten_checked_and_every_one_counts(tenant, psa):
    tenant.member("admin", email="anna@msp.example")
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda n: sign_in(psa, tenant, "anna@msp.example", f"guess {n}").status_code, range(16)))

    assert sorted(codes) == [401] * LIMIT + [429] * 6
    assert sign_in(psa, tenant, "anna@msp.example").status_code == 429


def test_a_made_up_tenant_stays_a_plain_401_and_leaves_nothing_behind(psa):
    # Only MSPs that exist have accounts to protect; rows for any UUID sent would never be pruned.
    nowhere = {"tenant": "01900000-0000-7000-8000-000000000000", "email": "anna@msp.example", "password": "guess"}
    codes = [psa.http.post("/api/v1/auth/token", json=nowhere).status_code for _ in range(LIMIT + 1)]
    assert codes == [401] * (LIMIT + 1)
    with psa.service("tickets").db.proxy.connection_context(), tenant_scope(nowhere["tenant"]):
        assert SignInFailure.select().count() == 0
