"""A revoked key's id is worth keeping in the vault only while a token traded for it can still be
valid: the access-token lifetime (15 minutes) plus a margin for clocks (5 minutes) after the
revocation. Until then the vault refuses a token minted just before the revocation; after it the
id is pruned from its `revokedkeyrecord`, so the list does not grow with every key an MSP ever
revoked. Until 2026-11-27 it was never pruned (docs/foundation.md, Identity and access). The
service desk prunes nothing: it asks its directory about the token's one key, which stays revoked
for good, so no horizon of its own can let a leaked token back in."""

from __future__ import annotations

import datetime as dt
import uuid

import jwt
import pytest

from psa_docs_vault import projection
from psa_docs_vault.projection import RevokedKeyRecord
from psa_shared.tenancy import TenantScopeError, tenant_scope
from psa_tickets.directory import tokens
from psa_tickets.servicedesk import clock

from .test_api_key_revocation import _key, _refused
from .test_directory_edges import _sign_in_with_key

LIFETIME, MARGIN = dt.timedelta(minutes=15), dt.timedelta(minutes=5)  # the documented figures
SECOND, YEAR = dt.timedelta(seconds=1), dt.timedelta(days=365)


def _revoke(api, key: dict) -> dt.datetime:
    revoked = api.delete(f"/api/v1/auth/api-keys/{key['id']}")
    assert revoked.status_code == 200, revoked.json
    return _naive_utc(revoked.json["revoked_at"])


def _naive_utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC).replace(tzinfo=None)


def _expiry(api) -> dt.datetime:
    claims = jwt.decode(api.token, options={"verify_signature": False})
    return dt.datetime.fromtimestamp(claims["exp"], dt.UTC).replace(tzinfo=None)


def _desk_refuses(psa, tenant, member_id, key_id) -> bool:
    """Whether the service desk refuses tokens of the key, as the member is loaded now."""
    tenant.member("technician")  # someone joins: the directory's generation moves, members load afresh
    with psa.service("tickets").db.proxy.connection_context():
        member = tokens.lookup_member(uuid.UUID(tenant.id), uuid.UUID(member_id))
        return member.refuses_key(uuid.UUID(key_id))


def _vault_keeps(psa, tenant) -> set[str]:
    with psa.service("docs_vault").db.proxy.connection_context(), tenant_scope(tenant.id):
        return {str(row.id) for row in RevokedKeyRecord.select()}


def _me(api) -> str:
    return api.get("/api/v1/auth/me").json["member_id"]


def test_the_desk_refuses_a_leaked_rmm_token_however_long_ago_the_key_was_revoked(psa, tenant):
    rmm = _key(tenant.api, "RMM")
    leaked = _sign_in_with_key(psa, rmm["key"])
    admin = _me(leaked)
    revoked_at = _revoke(tenant.api, rmm)
    expires = _expiry(leaked)
    assert expires <= revoked_at + LIFETIME  # minted just before the revocation

    # Only the desk's clock travels: the token's expiry is checked on the real one, so it stays alive.
    for moment in (revoked_at, expires - SECOND, revoked_at + LIFETIME + MARGIN + SECOND, revoked_at + YEAR):
        with clock.travel(moment):
            assert _desk_refuses(psa, tenant, admin, rmm["id"])
            _refused(leaked.get("/api/v1/clients"))

    with clock.travel(revoked_at + YEAR):
        again = psa.http.post("/api/v1/auth/token", json={"api_key": rmm["key"]})
        assert again.status_code == 401  # the key itself stays revoked for good
        listed = {key["id"]: key for key in tenant.api.get("/api/v1/auth/api-keys").json["items"]}
        assert listed[rmm["id"]]["revoked_at"] is not None  # and listed as such


def test_the_desk_refuses_a_key_revoked_long_ago_from_the_very_next_request(psa, tenant):
    rmm = _key(tenant.api, "RMM")
    leaked = _sign_in_with_key(psa, rmm["key"])
    assert leaked.get("/api/v1/clients").status_code == 200  # the key's answer, kept for this generation
    with clock.travel(clock.now() - YEAR):  # stamped a year back: far past any horizon
        _revoke(tenant.api, rmm)

    _refused(leaked.get("/api/v1/clients"))  # the revocation moved the generation: asked afresh
    assert _desk_refuses(psa, tenant, _me(tenant.api), rmm["id"])


def test_the_desk_refuses_a_token_naming_a_key_of_another_member(psa, tenant):
    tech = tenant.member("technician")
    theirs = _key(tech.api, "RMM")
    assert _desk_refuses(psa, tenant, _me(tenant.api), theirs["id"])  # not the admin's key: fail closed
    assert not _desk_refuses(psa, tenant, tech.id, theirs["id"])


def test_the_vault_refuses_a_leaked_token_until_it_expires_and_prunes_the_record_after(psa, tenant):
    client = tenant.client("Acme Dental")
    psa.settle()
    rmm = _key(tenant.api, "RMM", ["vault:read", "vault:reveal"])
    leaked = _sign_in_with_key(psa, rmm["key"])
    revoked_at = _revoke(tenant.api, rmm)
    psa.settle()
    expires = _expiry(leaked)

    # Later revocations reaching the vault prune the tenant's records whose tokens are all dead.
    with clock.travel(revoked_at + LIFETIME + MARGIN - SECOND):
        backup = _key(tenant.api, "Backup")
        _revoke(tenant.api, backup)
    psa.settle()
    assert _vault_keeps(psa, tenant) == {rmm["id"], backup["id"]}
    _refused(leaked.get("/api/v1/credentials"))
    _refused(leaked.get(f"/api/v1/credentials?client_id={client['id']}"))

    pruned_at = revoked_at + LIFETIME + MARGIN + SECOND
    assert expires < pruned_at
    with clock.travel(pruned_at):
        monitoring = _key(tenant.api, "Monitoring")
        _revoke(tenant.api, monitoring)
    psa.settle()
    assert _vault_keeps(psa, tenant) == {backup["id"], monitoring["id"]}


def test_a_revocation_in_one_msp_prunes_nothing_of_another_msps(psa, tenant, other_tenant):
    theirs = _key(other_tenant.api, "RMM")
    their_token = _sign_in_with_key(psa, theirs["key"])
    revoked_at = _revoke(other_tenant.api, theirs)
    psa.settle()

    with clock.travel(revoked_at + LIFETIME + MARGIN + SECOND):
        _revoke(tenant.api, _key(tenant.api, "RMM"))
    psa.settle()

    assert _vault_keeps(psa, other_tenant) == {theirs["id"]}  # their own next revocation prunes it
    _refused(their_token.get("/api/v1/credentials"))


def test_pruning_outside_a_tenant_raises_rather_than_touching_every_msps_records(psa, tenant):
    with psa.service("docs_vault").db.proxy.connection_context(), pytest.raises(TenantScopeError):
        projection.prune_revoked_keys(dt.datetime(2026, 3, 2, 9, 0))


def test_a_vault_from_before_pruning_keeps_its_records_a_whole_horizon_after_the_upgrade(psa, tenant):
    rmm = _key(tenant.api, "RMM", ["vault:read"])
    leaked = _sign_in_with_key(psa, rmm["key"])
    _revoke(tenant.api, rmm)
    psa.settle()
    with psa.as_owner("docs_vault") as db, db.proxy.connection_context():
        db.proxy.execute_sql('ALTER TABLE "revokedkeyrecord" DROP COLUMN revoked_at')  # as records were
    psa.service("docs_vault").bind(psa.settings)  # the next start
    upgraded = projection.utcnow()

    _refused(leaked.get("/api/v1/credentials"))
    with clock.travel(upgraded + LIFETIME + MARGIN - SECOND):
        _revoke(tenant.api, backup := _key(tenant.api, "Backup"))
    psa.settle()
    assert _vault_keeps(psa, tenant) == {rmm["id"], backup["id"]}
    with clock.travel(upgraded + LIFETIME + MARGIN + SECOND):
        _revoke(tenant.api, _key(tenant.api, "Monitoring"))
    psa.settle()
    assert rmm["id"] not in _vault_keeps(psa, tenant)
