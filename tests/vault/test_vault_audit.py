"""The audit chain: any edited row, missing row or cut tail is detected by `psa vault verify-audit`."""

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import peewee
import pytest
from click.testing import CliRunner

from psa_docs_vault import audit
from psa_docs_vault.audit import AuditHead, AuditRow
from psa_docs_vault.cli import vault

from .credentials_kit import audit_rows, reveal, settle, store, vault_db


@pytest.fixture
def chained(psa, tenant):
    """Six audit rows: one create, four reveals and one refused reveal."""
    client = tenant.client()
    settle(psa)
    credential = store(tenant.api, client["id"])
    for _ in range(4):
        assert reveal(tenant.api, credential["id"]).status_code == 200
    assert reveal(tenant.api, "01900000-0000-7000-8000-000000000000").status_code == 404
    with vault_db(psa, tenant.id):
        assert audit.verify().ok and audit.verify().rows == 6
    return tenant


@contextmanager
def tampering(psa, tenant_id):
    """What someone with the tables' owner rights could do: edit rows behind the triggers."""
    with psa.as_owner("docs_vault") as db, vault_db(psa, tenant_id), db.proxy.atomic():
        if db.is_postgres:  # for this transaction only
            db.proxy.execute_sql('ALTER TABLE "vault_audit" DISABLE TRIGGER "vault_audit_append_only"')
        else:
            db.proxy.execute_sql('DROP TRIGGER "vault_audit_append_only"')
        yield
        if db.is_postgres:
            db.proxy.execute_sql('ALTER TABLE "vault_audit" ENABLE TRIGGER "vault_audit_append_only"')
    if not db.is_postgres:
        audit.install_guards()


def _verify(psa, tenant_id):
    with vault_db(psa, tenant_id):
        return audit.verify()


def test_an_untouched_chain_verifies_from_the_cli(psa, chained):
    result = CliRunner().invoke(vault, ["verify-audit"])
    assert result.exit_code == 0, result.output
    assert f"{chained.id}: 6 rows, ok" in result.output


def test_reasons_in_any_script_or_quoting_chain_as_the_verifier_recomputes_them(psa, tenant):
    """The database hashes each appended row itself (from the head it locks); the verifier hashes
    in Python: both over the same text, whatever a tech types as the reason."""
    client = tenant.client()
    settle(psa)
    credential = store(tenant.api, client["id"])
    reasons = ["Zoë’s laptop — ключ 🔑", 'quote " and \\ backslash', '"seq":0,"x":1', "tab\tnewline\n"]
    for reason in reasons:
        assert reveal(tenant.api, credential["id"], reason=reason).status_code == 200
    with vault_db(psa, tenant.id):
        assert [
            row.reason for row in AuditRow.select().where(AuditRow.action == "reveal").order_by(AuditRow.seq)
        ] == reasons
        verdict = audit.verify()
    assert verdict.ok, verdict.problems
    assert verdict.rows == 1 + len(reasons)


def test_editing_an_audit_row_is_detected(psa, chained):
    with tampering(psa, chained.id):
        AuditRow.update(reason="nothing to see").where(AuditRow.seq == 3).execute()
    verdict = _verify(psa, chained.id)
    assert not verdict.ok and any("row 3" in p and "edited" in p for p in verdict.problems)
    result = CliRunner().invoke(vault, ["verify-audit", "--tenant", chained.id])
    assert result.exit_code != 0 and "TAMPERED" in result.output


def test_deleting_a_row_in_the_middle_is_detected(psa, chained):
    with tampering(psa, chained.id):
        AuditRow.delete().where(AuditRow.seq == 2).execute()
    verdict = _verify(psa, chained.id)
    assert not verdict.ok and any("gap" in p for p in verdict.problems)


def test_cutting_the_tail_is_detected_by_the_head_checkpoint(psa, chained):
    with tampering(psa, chained.id):
        AuditRow.delete().where(AuditRow.seq >= 5).execute()
    verdict = _verify(psa, chained.id)
    assert not verdict.ok and any("head counts 6" in p for p in verdict.problems)


def test_rewinding_the_head_with_the_tail_is_still_a_mismatch(psa, chained):
    """Cutting rows and lowering the count is caught unless the attacker also forges the hash."""
    with tampering(psa, chained.id):
        AuditRow.delete().where(AuditRow.seq == 6).execute()
        AuditHead.update(count=5).execute()
    assert not _verify(psa, chained.id).ok


def test_a_refused_reveal_of_another_tenants_id_lands_in_the_actors_chain_only(psa, chained, other_tenant):
    settle(psa)
    foreign_client = other_tenant.client()
    settle(psa)
    foreign = store(other_tenant.api, foreign_client["id"])
    before = _verify(psa, other_tenant.id).rows
    assert reveal(chained.api, foreign["id"]).status_code == 404
    assert _verify(psa, chained.id).rows == 7 and _verify(psa, chained.id).ok
    assert _verify(psa, other_tenant.id).rows == before


def test_the_apps_own_connection_cannot_rewrite_audit_rows(psa, chained):
    db = psa.service("docs_vault").db
    with vault_db(psa, chained.id):
        with pytest.raises(peewee.DatabaseError), db.proxy.atomic():
            AuditRow.update(reason="rewritten").where(AuditRow.seq == 1).execute()
        if db.is_postgres:
            with pytest.raises(peewee.DatabaseError), db.proxy.atomic():
                AuditRow.delete().where(AuditRow.seq == 1).execute()
            # and before any trigger: the role serving requests holds no such privilege
            rights = db.proxy.execute_sql(
                "SELECT privilege_type FROM information_schema.role_table_grants "
                "WHERE grantee = current_user AND table_name = 'vault_audit'"
            ).fetchall()
            assert sorted(r for (r,) in rights) == ["INSERT", "SELECT"]
    assert _verify(psa, chained.id).ok


def _synced_since(api, last_seen: str | None) -> list[dict]:
    """What a SIEM export takes on each run: the audit list newest first, down to the last id it saw."""
    taken, after = [], ""
    while True:
        page = api.get(f"/api/v1/audit?limit=200{after}").json
        for item in page["items"]:
            if last_seen is not None and item["id"] <= last_seen:
                return taken
            taken.append(item)
        if page["next_cursor"] is None:
            return taken
        after = f"&after={page['next_cursor']}"


def test_a_siem_syncing_past_the_last_id_it_saw_misses_no_row_of_a_busy_morning(psa, tenant):
    """The SIEM export runs over and over, each time taking the rows above the last id it saw,
    while eight technicians reveal at once and mistype ids (refused, audited). Until 2026-11-28 a
    row's id was made before the append waited for the tenant's chain: rows committed later could
    hold older ids, listed below the last one seen, and the SIEM never took them (both backends)."""
    client = tenant.client()
    settle(psa)
    credential = store(tenant.api, client["id"])
    limits = {"reveal_limit_per_hour": 10_000, "reason_required": False}
    assert tenant.api.put("/api/v1/credentials/settings", json=limits).status_code == 200
    targets = [credential["id"], "01900000-0000-7000-8000-000000000000"] * 60
    taken, revealing = [], threading.Event()

    def siem():
        while revealing.is_set():
            taken.extend(_synced_since(tenant.api, taken[-1]["id"] if taken else None)[::-1])

    revealing.set()
    with ThreadPoolExecutor(max_workers=9) as pool:
        syncing = pool.submit(siem)
        assert sorted(set(pool.map(lambda target: reveal(tenant.api, target).status_code, targets))) == [200, 404]
        revealing.clear()
        syncing.result()
    taken.extend(_synced_since(tenant.api, taken[-1]["id"] if taken else None)[::-1])

    assert [item["id"] for item in taken] == [str(row.id) for row in audit_rows(psa, tenant.id)]
