"""Encryption and key rotation: ciphertexts are bound to their place, rotation leaves nothing behind."""

import base64

import pytest
from click.testing import CliRunner

from psa_docs_vault import crypto, keys, rotation
from psa_docs_vault.credentials.models import Credential
from psa_docs_vault.keys import TenantKey
from psa_shared.config import Settings

from .credentials_kit import reveal, settle, store, vault_db


def _secret_row(psa, tenant_id, credential_id):
    with vault_db(psa, tenant_id):
        return Credential.get_by_id(credential_id)


def test_a_ciphertext_copied_to_another_record_or_tenant_fails_to_decrypt(psa, tenant, other_tenant):
    client, foreign_client = tenant.client(), other_tenant.client()
    settle(psa)
    first = store(tenant.api, client["id"], secret="first")
    second = store(tenant.api, client["id"], secret="second")
    foreign = store(other_tenant.api, foreign_client["id"], secret="theirs")
    source = _secret_row(psa, tenant.id, first["id"])
    with vault_db(psa, tenant.id):
        with pytest.raises(crypto.DecryptionFailed):
            crypto.decrypt_field(second["id"], "secret", source.key_version, source.secret_ct)
        with pytest.raises(crypto.DecryptionFailed):
            crypto.decrypt_field(first["id"], "password", source.key_version, source.secret_ct)
        Credential.update(secret_ct=source.secret_ct, key_version=source.key_version).where(
            Credential.id == second["id"]
        ).execute()
    with vault_db(psa, other_tenant.id):
        with pytest.raises(crypto.DecryptionFailed):
            crypto.decrypt_field(foreign["id"], "secret", source.key_version, source.secret_ct)
        with pytest.raises(crypto.DecryptionFailed):
            crypto.decrypt_field(first["id"], "secret", source.key_version, source.secret_ct)
    moved = reveal(tenant.api, second["id"])
    assert moved.status_code == 500 and b"first" not in moved.data
    assert reveal(tenant.api, first["id"]).json == {"secret": "first"}


def test_ten_thousand_encryptions_use_ten_thousand_distinct_nonces(psa, tenant):
    client = tenant.client()
    settle(psa)
    store(tenant.api, client["id"])
    with vault_db(psa, tenant.id):
        version = keys.current_version()
        sealed = [crypto.encrypt_field("rec", "secret", "same", version)[1] for _ in range(10_000)]
    assert len({s[: crypto.NONCE_BYTES] for s in sealed}) == 10_000


def _many(psa, tenant, count):
    client = tenant.client()
    settle(psa)
    return {store(tenant.api, client["id"], secret=f"pw-{i}")["id"]: f"pw-{i}" for i in range(count)}


def _versions(psa, tenant_id):
    with vault_db(psa, tenant_id):
        on_rows = {c.key_version for c in Credential.select()}
        kept = {k.version for k in TenantKey.select()}
    return on_rows, kept


def test_after_tenant_key_rotation_every_secret_decrypts_and_none_remains_under_the_old_key(psa, tenant):
    secrets = _many(psa, tenant, 12)
    assert _versions(psa, tenant.id) == ({1}, {1})
    result = CliRunner().invoke(keys_cli(), ["rotate-tenant-key", "--tenant", tenant.id])
    assert result.exit_code == 0, result.output
    assert "12 re-encrypted, 0 remaining" in result.output
    assert _versions(psa, tenant.id) == ({2}, {2})
    assert {cid: reveal(tenant.api, cid).json["secret"] for cid in secrets} == secrets
    outbox = psa.service("docs_vault").outbox.model
    with psa.service("docs_vault").db.proxy.connection_context():
        assert outbox.select().where(outbox.type == "vault.key_rotated").count() == 1


def keys_cli():
    from psa_docs_vault.cli import vault

    return vault


def test_an_interrupted_rotation_rerun_finishes_and_old_versions_stay_readable_meanwhile(psa, tenant, monkeypatch):
    secrets = _many(psa, tenant, 15)
    with vault_db(psa, tenant.id):
        assert rotation.rotate_tenant(max_rows=4).remaining == 11  # a job stopped after a slice
    assert _versions(psa, tenant.id) == ({1, 2}, {1, 2})
    assert {cid: reveal(tenant.api, cid).json["secret"] for cid in secrets} == secrets

    real, calls = crypto.encrypt_field, []

    def dies_after_five(*args, **kwargs):
        calls.append(1)
        if len(calls) > 5:
            raise SystemExit("killed mid-way")
        return real(*args, **kwargs)

    monkeypatch.setattr(crypto, "encrypt_field", dies_after_five)
    with vault_db(psa, tenant.id), pytest.raises(SystemExit):
        rotation.rotate_tenant()
    monkeypatch.setattr(crypto, "encrypt_field", real)
    assert {cid: reveal(tenant.api, cid).json["secret"] for cid in secrets} == secrets
    with vault_db(psa, tenant.id):
        progress = rotation.rotate_tenant()  # the rerun resumes version 2, it does not start version 3
    assert progress.remaining == 0 and progress.done == 6
    assert _versions(psa, tenant.id) == ({2}, {2})
    assert {cid: reveal(tenant.api, cid).json["secret"] for cid in secrets} == secrets


def test_master_key_rotation_rewraps_every_data_key_and_the_old_master_key_can_go(psa, tenant, other_tenant):
    mine, theirs = _many(psa, tenant, 3), _many(psa, other_tenant, 3)
    old = keys.master()
    old_entry = f"{old.current_id}:" + base64.b64encode(old.key(old.current_id)).decode()
    new_entry = keys.generate_master_key_entry().replace("k", "new", 1)
    keys.configure(Settings.from_env({"PSA_VAULT_MASTER_KEYS": f"{new_entry},{old_entry}"}))
    try:
        for handle in (tenant, other_tenant):
            with vault_db(psa, handle.id):
                assert rotation.rewrap_master().remaining == 0
                assert {k.kek_id for k in TenantKey.select()} == {keys.master().current_id}
        keys.configure(Settings.from_env({"PSA_VAULT_MASTER_KEYS": new_entry}))  # the old key is gone
        assert {cid: reveal(tenant.api, cid).json["secret"] for cid in mine} == mine
        assert {cid: reveal(other_tenant.api, cid).json["secret"] for cid in theirs} == theirs
    finally:
        keys.configure(psa.settings)


def test_embedded_mode_generates_a_private_master_key_file_once(tmp_path):
    settings = Settings.from_env({"PSA_DATA_DIR": str(tmp_path)})
    first = keys.load_master_keys(settings)
    path = tmp_path / "keys" / "vault-master.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert keys.load_master_keys(settings).keys == first.keys
    assert base64.b64encode(first.key(first.current_id)).decode() not in repr(first)
    production = Settings.from_env({"PSA_DATA_DIR": str(tmp_path / "p"), "PSA_BROKER_URL": "amqp://x"})
    with pytest.raises(keys.MasterKeyMissing):
        keys.load_master_keys(production)
