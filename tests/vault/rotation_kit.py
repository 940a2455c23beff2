"""Key rotation as operators run it: many tenants' credentials, `psa vault rotate-*` in its own
process, killed with SIGKILL once it has made progress, then run again until it finishes.

Used by the kill test (a few hundred credentials) and `python -m tests.bench.rotation` (10,000).
The vault's database must be bound and its master keys loaded in this process.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from psa_docs_vault import crypto, keys
from psa_docs_vault.credentials.models import Credential
from psa_docs_vault.database import db
from psa_docs_vault.keys import TenantKey
from psa_shared.ids import new_id
from psa_shared.tenancy import tenant_scope

PSA = str(Path(sys.executable).parent / "psa")
SECRET = "secret"


def seed(tenants: int, per_tenant: int) -> list[uuid.UUID]:
    """Tenants holding `per_tenant` credentials each; every secret is its own credential's id."""
    made = []
    for _ in range(tenants):
        tenant, client = new_id(), new_id()
        with tenant_scope(tenant), db.proxy.connection_context():
            rows = []
            for i in range(per_tenant):
                row_id = new_id()
                version, sealed = crypto.encrypt_field(row_id, SECRET, str(row_id))
                rows.append(
                    {"id": row_id, "client_id": client, "name": f"Device {i}"}
                    | {"secret_ct": sealed, "key_version": version}
                )
            with db.proxy.atomic():
                for start in range(0, len(rows), 100):  # SQLite caps the variables of one statement
                    Credential.insert_many(rows[start : start + 100]).execute()
        made.append(tenant)
    return made


def master_key_entry(kek_id: str, key: bytes) -> str:
    return f"{kek_id}:{base64.b64encode(key).decode()}"


def current_master_entry() -> str:
    """The master key this process holds now, as `PSA_VAULT_MASTER_KEYS` spells it."""
    master = keys.master()
    return master_key_entry(master.current_id, master.key(master.current_id))


@dataclass
class Tally:
    credentials: int
    decrypted: int
    on_old_versions: int  # credentials under a data key older than their tenant's current one
    old_data_keys: int  # data key versions older than the current one, still stored
    under_other_master: int  # data keys not wrapped by the current master key

    @property
    def decrypt_percent(self) -> float:
        return 100.0 * self.decrypted / self.credentials if self.credentials else 100.0


def tally(tenants: list[uuid.UUID]) -> Tally:
    """Decrypt every credential with the master keys this process holds, and count what is left over."""
    total = decrypted = old_rows = old_keys = other_master = 0
    with db.proxy.connection_context():
        for tenant in tenants:
            with tenant_scope(tenant):
                current = keys.current_version()
                for row in Credential.select().iterator():
                    total += 1
                    old_rows += row.key_version < current
                    with contextlib.suppress(crypto.DecryptionFailed):  # counted as not decrypted
                        decrypted += crypto.decrypt_field(row.id, SECRET, row.key_version, row.secret_ct) == str(row.id)
                old_keys += TenantKey.select().where(TenantKey.version < current).count()
                other_master += TenantKey.select().where(TenantKey.kek_id != keys.master().current_id).count()
    return Tally(total, decrypted, old_rows, old_keys, other_master)


def rows_above(tenants: list[uuid.UUID], versions: dict[uuid.UUID, int]) -> int:
    """Credentials re-encrypted past the data key versions noted in `versions` (progress of a rotation)."""
    moved = 0
    with db.proxy.connection_context():
        for tenant in tenants:
            with tenant_scope(tenant):
                moved += Credential.select().where(Credential.key_version > versions[tenant]).count()
    return moved


def versions(tenants: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    with db.proxy.connection_context():
        found = {}
        for tenant in tenants:
            with tenant_scope(tenant):
                found[tenant] = keys.current_version()
        return found


@dataclass
class Run:
    returncode: int
    output: str

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


def run(command: list[str], env: dict, kill_when: Callable[[], bool] | None = None, timeout: float = 600) -> Run:
    """`psa vault <command>` in its own process; SIGKILLed as soon as `kill_when()` holds, if it still runs."""
    process = subprocess.Popen(
        [PSA, "vault", *command], env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + timeout
    if kill_when is not None:
        while process.poll() is None and time.monotonic() < deadline:
            if kill_when():
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
    output, _ = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
    return Run(process.returncode, output.decode(errors="replace"))


def rotate_tenant_keys_killed_twice(tenants: list[uuid.UUID], env: dict) -> list[Run]:
    """`rotate-tenant-key` killed once it re-encrypted a third of the credentials, run and killed
    again past two thirds, then run to the end. Returns the three runs."""
    start = versions(tenants)
    total = count_credentials(tenants)
    runs = []
    for floor in (total // 3, 2 * total // 3):
        runs.append(run(["rotate-tenant-key"], env, kill_when=lambda floor=floor: rows_above(tenants, start) > floor))
    runs.append(run(["rotate-tenant-key"], env))
    return runs


def count_credentials(tenants: list[uuid.UUID]) -> int:
    with db.proxy.connection_context():
        count = 0
        for tenant in tenants:
            with tenant_scope(tenant):
                count += Credential.select().count()
        return count


def rewrapped(tenants: list[uuid.UUID], kek_id: str) -> int:
    """Data keys already wrapped by master key `kek_id` (progress of a master key rotation)."""
    with db.proxy.connection_context():
        count = 0
        for tenant in tenants:
            with tenant_scope(tenant):
                count += TenantKey.select().where(TenantKey.kek_id == kek_id).count()
        return count
