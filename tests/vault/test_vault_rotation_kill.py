"""Rotation survives `kill -9`: killed mid-way twice and run again, every secret decrypts, none
stays under an old key, and the vault carries on once the old master key is removed."""

import os

from psa_docs_vault import crypto, keys
from psa_shared.config import Settings
from psa_shared.ids import new_id
from psa_shared.tenancy import tenant_scope

from .rotation_kit import (
    current_master_entry,
    master_key_entry,
    rewrapped,
    rotate_tenant_keys_killed_twice,
    run,
    seed,
    tally,
)


def test_rotations_killed_with_sigkill_twice_finish_with_every_secret_under_the_new_keys(psa):
    keys.configure(psa.settings)  # the master keys the server would hold
    tenants = seed(tenants=4, per_tenant=75)
    new = master_key_entry("rotated", os.urandom(32))
    both = {"PSA_VAULT_MASTER_KEYS": f"{new},{current_master_entry()}"}
    only_new = {"PSA_VAULT_MASTER_KEYS": new}
    try:
        run(["rotate-master-key"], both, kill_when=lambda: rewrapped(tenants, "rotated") > 0)
        finished = run(["rotate-master-key"], both)
        assert finished.returncode == 0 and "older master keys may be removed" in finished.output, finished.output

        runs = rotate_tenant_keys_killed_twice(tenants, only_new)
        assert [r.killed for r in runs] == [True, True, False], [r.output for r in runs]
        assert runs[-1].returncode == 0, runs[-1].output

        keys.configure(Settings.from_env({**os.environ, **only_new}))  # the old master key is gone
        after = tally(tenants)
        assert (after.credentials, after.decrypted) == (300, 300)
        assert (after.on_old_versions, after.old_data_keys, after.under_other_master) == (0, 0, 0)
        with tenant_scope(tenants[0]), psa.service("docs_vault").db.proxy.connection_context():
            row_id = new_id()
            version, sealed = crypto.encrypt_field(row_id, "secret", "after the old key")
            assert crypto.decrypt_field(row_id, "secret", version, sealed) == "after the old key"
        assert run(["rotate-master-key"], only_new).returncode == 0
    finally:
        keys.configure(psa.settings)
