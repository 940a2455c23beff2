"""A stolen backup of the attachment folder holds only ciphertext: the client's VPN profile and
license keys are sealed under the vault's master key, kept owner-only, and a file that was edited,
cut short or moved fails closed. Files written before sealing still download until sealed."""

import base64
import hashlib
import io
import os
import stat

import pytest
from click.testing import CliRunner

from psa_docs_vault import crypto, keys
from psa_docs_vault.attachments.store import MAGIC, SEALED_CHUNK, LocalFolderStore, SealedStore
from psa_docs_vault.cli import vault
from psa_shared.config import Settings

from .credentials_kit import client_configuration

URL = "/api/v1/configurations"
VPN_PROFILE = b"client\ndev tun\nremote vpn.dental.example 1194\n<key>\n-----BEGIN PRIVATE KEY-----\nMIIEvQ\n</key>\n"
TENANT = "8f6b1c9e-4a52-4a8e-9d3a-2b1f0c7e5d41"
ATTACHMENT = "0d2e4c6a-8b1f-4e3d-a5c7-9f1b3d5e7a90"


@pytest.fixture
def firewall(psa, tenant):
    return client_configuration(psa, tenant, "firewall", "FW01")


def attach(api, configuration, content=VPN_PROFILE, filename="office.ovpn") -> dict:
    made = api.post(f"{URL}/{configuration['id']}/attachments", data={"file": (io.BytesIO(content), filename)})
    assert made.status_code == 201, made.json
    return made.json


def download(api, configuration, attachment):
    return api.get(f"{URL}/{configuration['id']}/attachments/{attachment['id']}")


def root(psa):
    return psa.settings.data_dir / "attachments"


def on_disk(psa, tenant, attachment):
    return root(psa) / tenant.id / attachment["id"]


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def master_entry(kek_id: str, key: bytes) -> str:
    return f"{kek_id}:{base64.b64encode(key).decode()}"


def test_the_vpn_profile_on_disk_is_ciphertext_in_owner_only_files_and_folders(psa, tenant, firewall):
    before = os.umask(0o022)  # a typical service umask: files 0644, folders 0755 unless we say so
    try:
        attachment = attach(tenant.api, firewall)
    finally:
        os.umask(before)
    path = on_disk(psa, tenant, attachment)
    stored = path.read_bytes()
    assert stored.startswith(MAGIC)
    for piece in (VPN_PROFILE, b"BEGIN PRIVATE KEY", b"vpn.dental.example"):
        assert piece not in stored
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700 and mode(root(psa)) == 0o700
    assert attachment["sha256"] == hashlib.sha256(VPN_PROFILE).hexdigest()  # the plaintext's, as before


@pytest.mark.parametrize("size", [1, SEALED_CHUNK - 1, SEALED_CHUNK, 2 * SEALED_CHUNK, 3 * SEALED_CHUNK + 17])
def test_a_download_returns_exactly_the_uploaded_bytes_and_their_checksum(psa, tenant, firewall, size):
    content = os.urandom(size)
    attachment = attach(tenant.api, firewall, content, filename="client.p12")
    got = download(tenant.api, firewall, attachment)
    assert got.status_code == 200 and got.data == content
    assert int(got.headers["Content-Length"]) == size == attachment["size"]
    assert hashlib.sha256(got.data).hexdigest() == attachment["sha256"]


def _refused(psa, tenant, firewall, attachment):
    refused = download(tenant.api, firewall, attachment)
    assert refused.status_code == 500 and refused.content_type == "application/problem+json"
    assert b"PRIVATE KEY" not in refused.data
    return refused


def test_a_file_edited_on_disk_fails_closed_rather_than_serving_garbage(psa, tenant, firewall):
    attachment = attach(tenant.api, firewall)
    path = on_disk(psa, tenant, attachment)
    stored = bytearray(path.read_bytes())
    stored[-20] ^= 0x01  # one bit inside the last chunk's ciphertext
    path.write_bytes(bytes(stored))
    _refused(psa, tenant, firewall, attachment)


def test_a_file_cut_at_a_chunk_boundary_or_with_bytes_appended_fails_closed(psa, tenant, firewall):
    attachment = attach(tenant.api, firewall, os.urandom(2 * SEALED_CHUNK + 5), filename="backup.bak")
    path = on_disk(psa, tenant, attachment)
    whole = path.read_bytes()
    path.write_bytes(whole[: -(5 + crypto.CHUNK_OVERHEAD)])  # the last chunk dropped whole
    _refused(psa, tenant, firewall, attachment)
    path.write_bytes(whole + whole[-(5 + crypto.CHUNK_OVERHEAD) :])  # a chunk replayed at the end
    _refused(psa, tenant, firewall, attachment)


def test_a_sealed_file_copied_over_another_attachment_or_tenant_does_not_decrypt(psa, tenant, other_tenant, firewall):
    profile, license_file = attach(tenant.api, firewall), attach(tenant.api, firewall, b"KEY: ABCD", "office.lic")
    on_disk(psa, tenant, license_file).write_bytes(on_disk(psa, tenant, profile).read_bytes())
    _refused(psa, tenant, firewall, license_file)
    sealed = on_disk(psa, tenant, profile).read_bytes()
    store = SealedStore(LocalFolderStore(root(psa)))
    store.inner.put(f"{other_tenant.id}/{profile['id']}", io.BytesIO(sealed), len(sealed))
    with pytest.raises(crypto.DecryptionFailed):
        store.open(f"{other_tenant.id}/{profile['id']}")


def test_a_plaintext_file_from_before_sealing_still_downloads_until_sealed_by_the_command(psa, tenant, firewall):
    attachment = attach(tenant.api, firewall)
    path = on_disk(psa, tenant, attachment)
    path.write_bytes(VPN_PROFILE)  # as versions before sealing wrote it
    os.chmod(path, 0o644)
    os.chmod(path.parent, 0o755)
    assert download(tenant.api, firewall, attachment).data == VPN_PROFILE

    result = CliRunner().invoke(vault, ["seal-attachments", "--tenant", tenant.id])
    assert result.exit_code == 0, result.output
    assert f"{tenant.id}: attachments 1 sealed" in result.output
    stored = path.read_bytes()
    assert stored.startswith(MAGIC) and VPN_PROFILE not in stored
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert download(tenant.api, firewall, attachment).data == VPN_PROFILE
    rerun = CliRunner().invoke(vault, ["seal-attachments"])
    assert rerun.exit_code == 0 and "1 current" in rerun.output, rerun.output


def test_sealing_leaves_a_plaintext_file_that_no_longer_matches_its_checksum_as_it_is(psa, tenant, firewall):
    attachment = attach(tenant.api, firewall)
    path = on_disk(psa, tenant, attachment)
    path.write_bytes(b"client\nremote evil.example\n")
    result = CliRunner().invoke(vault, ["seal-attachments"])
    assert result.exit_code != 0 and "1 damaged" in result.output, result.output
    assert path.read_bytes() == b"client\nremote evil.example\n"  # not blessed by sealing it
    _refused(psa, tenant, firewall, attachment)


def test_master_key_rotation_rewraps_attachments_and_the_old_master_key_can_go(psa, tenant, firewall, monkeypatch):
    attachment = attach(tenant.api, firewall)
    path = on_disk(psa, tenant, attachment)
    sealed_before = path.read_bytes()
    old = keys.master()
    old_entry = master_entry(old.current_id, old.key(old.current_id))
    new_entry = keys.generate_master_key_entry().replace("k", "new", 1)
    new_id = new_entry.partition(":")[0]
    try:
        monkeypatch.setenv("PSA_VAULT_MASTER_KEYS", f"{new_entry},{old_entry}")  # new key FIRST, old still listed
        keys.configure(Settings.from_env())
        assert download(tenant.api, firewall, attachment).data == VPN_PROFILE  # old files readable meanwhile
        result = CliRunner().invoke(vault, ["rotate-master-key"])
        assert result.exit_code == 0, result.output
        assert f"{tenant.id}: attachments 1 rewrapped" in result.output
        sealed_after = path.read_bytes()
        assert new_id.encode() in sealed_after[:100] and old.current_id.encode() not in sealed_after[:100]
        assert sealed_after[-100:] == sealed_before[-100:]  # only the wrapped key changed
        assert mode(path) == 0o600

        monkeypatch.setenv("PSA_VAULT_MASTER_KEYS", new_entry)  # the old key removed
        keys.configure(Settings.from_env())
        assert download(tenant.api, firewall, attachment).data == VPN_PROFILE
    finally:
        keys.configure(psa.settings)


def test_a_file_whose_master_key_was_removed_too_early_fails_closed(psa, tenant, firewall, monkeypatch):
    attachment = attach(tenant.api, firewall)
    try:
        keys.configure(Settings.from_env({"PSA_VAULT_MASTER_KEYS": keys.generate_master_key_entry()}))
        _refused(psa, tenant, firewall, attachment)
    finally:
        keys.configure(psa.settings)
    assert download(tenant.api, firewall, attachment).data == VPN_PROFILE


def test_tenant_key_rotation_leaves_attachments_readable(psa, tenant, firewall):
    client_id = firewall["client_id"]
    made = tenant.api.post("/api/v1/credentials", json={"client_id": client_id, "name": "FW admin", "secret": "x"})
    assert made.status_code == 201, made.json
    attachment = attach(tenant.api, firewall)
    result = CliRunner().invoke(vault, ["rotate-tenant-key", "--tenant", tenant.id])
    assert result.exit_code == 0, result.output
    assert download(tenant.api, firewall, attachment).data == VPN_PROFILE


def test_a_store_plugged_in_is_handed_only_ciphertext(psa, tmp_path):
    """An object-storage plug-in gets sealed bytes; a socket-like upload stream that hands out a
    few bytes per read still makes whole chunks."""

    class Trickle(io.RawIOBase):
        def __init__(self, data):
            self.data = data

        def readable(self):
            return True

        def readinto(self, buffer):
            size = min(7, len(buffer))
            piece, self.data = self.data[:size], self.data[size:]
            buffer[: len(piece)] = piece
            return len(piece)

    content = os.urandom(SEALED_CHUNK + 100)
    store = SealedStore(LocalFolderStore(tmp_path))
    key = f"{TENANT}/{ATTACHMENT}"
    size, digest = store.put(key, Trickle(content), len(content))
    assert (size, digest) == (len(content), hashlib.sha256(content).hexdigest())
    assert content[:64] not in (tmp_path / key).read_bytes()
    with store.open(key) as stream:
        assert stream.read() == content
