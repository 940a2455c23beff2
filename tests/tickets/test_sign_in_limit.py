"""Someone guesses passwords at the MSP's admin, whose account can reveal every client's passwords:
after ten wrong ones in fifteen minutes the account's sign-ins are refused (429) without a
password check, until the window passes. Nobody else is locked out, and an email that names
nobody is treated the same. One password sprayed across the MSP's emails stops at the tenant's
ceiling, made-up tenant ids share one ceiling, and one client address guessing across MSPs stops
at its own (docs/foundation.md, Identity and access)."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest

from psa_shared.config import Settings
from psa_shared.tenancy import tenant_scope
from psa_tickets.directory import models, tokens
from psa_tickets.servicedesk import clock

LIMIT, WINDOW = 10, dt.timedelta(minutes=15)  # the documented figures
TENANT_LIMIT, ADDRESS_LIMIT = 100, 50
ATTACKER, NEIGHBOUR = "100.1.2.3", "100.1.2.4"  # public addresses (documentation ranges are not)
PASSWORD = "correct horse battery"
MONDAY_9 = dt.datetime(2026, 3, 2, 9, 0)


def sign_in(psa, tenant, email: str, password: str = PASSWORD, address: str | None = None, **kwargs):
    tenant_id = tenant if isinstance(tenant, str) else tenant.id
    if address:
        kwargs["environ_base"] = {"REMOTE_ADDR": address}
    body = {"tenant": tenant_id, "email": email, "password": password}
    return psa.http.post("/api/v1/auth/token", json=body, **kwargs)


def configure(psa, monkeypatch, **env) -> None:
    """Serve with these `PSA_*` settings from now on (a fresh app reads them)."""
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    psa.settings = Settings.from_env()
    psa.rebuild()


def ceilings(psa) -> dict[str, int]:
    """The failures standing against each tenant and address (a success takes its own place back)."""
    with psa.service("tickets").db.proxy.connection_context():
        return {row.key: row.failures for row in models.SignInCeiling.select() if row.failures}


def nowhere(n: int) -> str:
    return f"01900000-0000-7000-8000-{n:012d}"  # a tenant id that names no tenant


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
    with clock.travel(MONDAY_9):  # the same moment for both: 22 argon2 checks on a busy machine take seconds
        real = [sign_in(psa, tenant, "anna@msp.example", f"guess {n}") for n in range(LIMIT + 1)]
        ghost = [sign_in(psa, tenant, "ghost@msp.example", f"guess {n}") for n in range(LIMIT + 1)]

    assert [r.status_code for r in real] == [r.status_code for r in ghost] == [401] * LIMIT + [429]
    assert [r.json for r in real] == [r.json for r in ghost]
    assert real[-1].headers["Retry-After"] == ghost[-1].headers["Retry-After"]


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


# One password sprayed across the MSP's emails: ten tries at each would never stop it.


def test_one_password_sprayed_across_the_msps_emails_stops_at_the_tenant_ceiling(
    tenant, other_tenant, psa, monkeypatch
):
    configure(psa, monkeypatch, PSA_SIGN_IN_TENANT_LIMIT=6)
    anna = tenant.member("admin", email="anna@msp.example")
    namesake = other_tenant.member("admin", email="anna@msp.example")
    with clock.travel(MONDAY_9):
        sprayed = [sign_in(psa, tenant, f"tech{n}@msp.example", "Summer2026!").status_code for n in range(6)]
        assert sprayed == [401] * 6  # one try each, nowhere near ten

        checked = []
        monkeypatch.setattr(tokens, "check_password", lambda *args: checked.append(args) or True)
        refused = sign_in(psa, tenant, anna.email)
        assert refused.status_code == 429 and refused.content_type == "application/problem+json"
        assert refused.headers["Retry-After"] == str(int(WINDOW.total_seconds()))
        assert checked == []  # refused before the slow check, a right password too
        monkeypatch.undo()
    with clock.travel(MONDAY_9 + dt.timedelta(minutes=10)):  # knocking on is not counted
        assert sign_in(psa, tenant, "tech9@msp.example").headers["Retry-After"] == str(5 * 60)
        assert sign_in(psa, other_tenant, namesake.email).status_code == 200  # another MSP's own ceiling
    with clock.travel(MONDAY_9 + WINDOW):
        assert sign_in(psa, tenant, anna.email).status_code == 200


def test_members_signing_in_all_day_never_reach_the_tenant_ceiling(tenant, psa, monkeypatch):
    configure(psa, monkeypatch, PSA_SIGN_IN_TENANT_LIMIT=3)
    anna = tenant.member("admin", email="anna@msp.example")  # signed in once already
    assert [sign_in(psa, tenant, anna.email).status_code for _ in range(5)] == [200] * 5
    assert sign_in(psa, tenant, anna.email, "typo").status_code == 401
    assert ceilings(psa) == {f"tenant:{tenant.id}": 1}  # each success took its own count back


def test_knocking_on_a_locked_account_does_not_use_up_the_msps_ceiling(tenant, psa, monkeypatch):
    configure(psa, monkeypatch, PSA_SIGN_IN_TENANT_LIMIT=LIMIT + 2)
    colleague = tenant.member("technician", email="tom@msp.example")
    guess_wrong(psa, tenant, "anna@msp.example")
    assert guess_wrong(psa, tenant, "anna@msp.example", 20) == [429] * 20

    assert sign_in(psa, tenant, "ghost@msp.example", "guess").status_code == 401  # 11th counted
    assert sign_in(psa, tenant, colleague.email).status_code == 200  # 12th place taken, then given back
    assert sign_in(psa, tenant, "ghost@msp.example", "guess").status_code == 401  # the 12th
    assert sign_in(psa, tenant, colleague.email).status_code == 429


def test_a_burst_sprayed_in_parallel_gets_no_more_passwords_checked_than_the_ceiling(tenant, psa, monkeypatch):
    configure(psa, monkeypatch, PSA_SIGN_IN_TENANT_LIMIT=LIMIT)
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda n: sign_in(psa, tenant, f"tech{n}@msp.example", "guess").status_code, range(16)))

    assert sorted(codes) == [401] * LIMIT + [429] * 6
    assert ceilings(psa) == {f"tenant:{tenant.id}": LIMIT}
    with psa.service("tickets").db.proxy.connection_context(), tenant_scope(tenant.id):
        assert models.SignInFailure.select().count() == LIMIT  # the refused left no count behind


# Made-up tenant ids: no account to protect, but each failure costs an argon2 check.


def test_made_up_tenant_ids_share_one_ceiling_and_leave_one_row_behind(tenant, psa, monkeypatch):
    configure(psa, monkeypatch, PSA_SIGN_IN_TENANT_LIMIT=5)
    anna = tenant.member("admin", email="anna@msp.example")
    codes = [sign_in(psa, nowhere(n), f"user{n}@msp.example", "guess").status_code for n in range(7)]

    assert codes == [401] * 5 + [429] * 2
    assert sign_in(psa, nowhere(99), "anna@msp.example", "guess").headers["Retry-After"]
    assert ceilings(psa) == {"tenant:unknown": 5}  # however many ids were made up
    for n in range(7):
        with psa.service("tickets").db.proxy.connection_context(), tenant_scope(nowhere(n)):
            assert models.SignInFailure.select().count() == 0
    assert sign_in(psa, tenant, anna.email).status_code == 200  # a real MSP keeps its own ceiling


# One client address guessing across MSPs and emails.


def test_one_address_guessing_across_msps_stops_at_its_ceiling(tenant, other_tenant, psa, monkeypatch):
    configure(psa, monkeypatch, PSA_SIGN_IN_ADDRESS_LIMIT=4)
    anna = tenant.member("admin", email="anna@msp.example")
    tom = other_tenant.member("admin", email="tom@other.example")
    tries = [(tenant, "a@msp.example"), (other_tenant, "b@other.example"), (tenant, "c@msp.example")]
    tries += [(nowhere(1), "d@msp.example")]
    assert [sign_in(psa, t, email, "guess", address=ATTACKER).status_code for t, email in tries] == [401] * 4

    refused = sign_in(psa, tenant, anna.email, address=ATTACKER)
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= WINDOW.total_seconds()
    assert "address" in refused.json["detail"]
    assert sign_in(psa, tenant, anna.email, address=NEIGHBOUR).status_code == 200  # elsewhere: fine
    assert sign_in(psa, other_tenant, tom.email, address=NEIGHBOUR).status_code == 200
    assert ceilings(psa)[f"address:{ATTACKER}"] == 4


def test_an_ipv6_host_is_limited_by_its_64_not_each_address_it_can_pick(tenant, psa, monkeypatch):
    configure(psa, monkeypatch, PSA_SIGN_IN_ADDRESS_LIMIT=3)
    codes = [
        sign_in(psa, tenant, f"u{n}@msp.example", "guess", address=f"2a01:4f8:1:2::{n:x}").status_code for n in range(4)
    ]
    assert codes == [401] * 3 + [429]
    assert sign_in(psa, tenant, "u9@msp.example", "guess", address="2a01:4f8:1:3::1").status_code == 401


def test_behind_a_trusted_proxy_the_forwarded_address_counts_and_a_forged_one_is_not_believed(tenant, psa, monkeypatch):
    configure(psa, monkeypatch, PSA_SIGN_IN_ADDRESS_LIMIT=2, PSA_TRUSTED_PROXIES="10.0.0.2")
    via_proxy = {"REMOTE_ADDR": "10.0.0.2"}
    forwarded = [
        sign_in(psa, tenant, f"u{n}@msp.example", "guess", environ_base=via_proxy,
                headers={"X-Forwarded-For": f"9.9.9.{n}, {ATTACKER}"}).status_code
        for n in range(3)
    ]  # fmt: skip
    assert forwarded == [401, 401, 429]  # the hop the proxy saw, not what the client claimed before it

    forged = [
        sign_in(psa, tenant, f"v{n}@msp.example", "guess", address=NEIGHBOUR,
                headers={"X-Forwarded-For": f"9.9.9.{n}"}).status_code
        for n in range(3)
    ]  # fmt: skip
    assert forged == [401, 401, 429]  # from an untrusted peer the header is ignored
    assert set(ceilings(psa)) == {f"tenant:{tenant.id}", f"address:{ATTACKER}", f"address:{NEIGHBOUR}"}


def test_a_private_peer_such_as_an_unlisted_proxy_does_not_lock_out_everyone_behind_it(
    tenant, other_tenant, psa, monkeypatch
):
    configure(psa, monkeypatch, PSA_SIGN_IN_ADDRESS_LIMIT=2)
    anna = tenant.member("admin", email="anna@msp.example")
    codes = [
        sign_in(psa, other_tenant, f"u{n}@other.example", "guess", address="172.18.0.5").status_code for n in range(4)
    ]
    assert codes == [401] * 4
    assert sign_in(psa, tenant, anna.email, address="172.18.0.5").status_code == 200
    assert not any(key.startswith("address:") for key in ceilings(psa))


# The figures are settings.


def test_the_figures_default_to_the_documented_ones_and_come_from_the_environment():
    defaults = Settings.from_env({})
    assert (defaults.sign_in_account_limit, defaults.sign_in_tenant_limit) == (LIMIT, TENANT_LIMIT)
    assert (defaults.sign_in_address_limit, defaults.sign_in_window_seconds) == (ADDRESS_LIMIT, WINDOW.total_seconds())
    env = {"PSA_SIGN_IN_ACCOUNT_LIMIT": "5", "PSA_SIGN_IN_TENANT_LIMIT": "500"}
    env |= {"PSA_SIGN_IN_ADDRESS_LIMIT": "0", "PSA_SIGN_IN_WINDOW": "3600"}
    changed = Settings.from_env(env)
    assert (changed.sign_in_account_limit, changed.sign_in_tenant_limit) == (5, 500)
    assert (changed.sign_in_address_limit, changed.sign_in_window_seconds) == (0, 3600)
    for name in ("PSA_SIGN_IN_ACCOUNT_LIMIT", "PSA_SIGN_IN_TENANT_LIMIT", "PSA_SIGN_IN_WINDOW"):
        with pytest.raises(ValueError, match=name):
            Settings.from_env({name: "0"})  # would refuse every sign-in
    with pytest.raises(ValueError, match="PSA_SIGN_IN_ADDRESS_LIMIT"):
        Settings.from_env({"PSA_SIGN_IN_ADDRESS_LIMIT": "-1"})


def test_settings_change_how_many_guesses_and_for_how_long(tenant, other_tenant, psa, monkeypatch):
    configure(psa, monkeypatch, PSA_SIGN_IN_ACCOUNT_LIMIT=3, PSA_SIGN_IN_WINDOW=60)
    anna = tenant.member("admin", email="anna@msp.example")
    namesake = other_tenant.member("admin", email="anna@msp.example")
    with clock.travel(MONDAY_9):
        assert guess_wrong(psa, tenant, anna.email, 4) == [401] * 3 + [429]
        assert sign_in(psa, tenant, anna.email).headers["Retry-After"] == "60"
        assert sign_in(psa, other_tenant, namesake.email).status_code == 200
    with clock.travel(MONDAY_9 + dt.timedelta(seconds=60)):
        assert sign_in(psa, tenant, anna.email).status_code == 200


def test_an_address_ceiling_of_zero_turns_it_off(tenant, psa, monkeypatch):
    configure(psa, monkeypatch, PSA_SIGN_IN_ADDRESS_LIMIT=0)
    codes = [sign_in(psa, tenant, f"u{n}@msp.example", "guess", address=ATTACKER).status_code for n in range(3)]
    assert codes == [401] * 3
    assert not any(key.startswith("address:") for key in ceilings(psa))


# The contract says so.


def test_the_openapi_document_declares_the_429_and_its_retry_after(psa):
    spec = psa.http.get("/openapi/tickets.json").json
    refused = spec["paths"]["/api/v1/auth/token"]["post"]["responses"]["429"]
    assert "application/problem+json" in refused["content"]
    assert refused["headers"]["Retry-After"]["required"] is True
    assert refused["headers"]["Retry-After"]["schema"]["type"] == "integer"
