"""Rotation benchmark (`python -m tests.bench.rotation`): 10,000 credentials in 20 tenants; the
master key job and the tenant key job each run as `psa vault ...` processes, the tenant key job
SIGKILLed mid-way twice, then both run to the end and the old master key is removed.

Prints, per backend: seconds per job (all runs), rows, decrypt % with only the new master key,
credentials left on old data key versions, and old data keys left.
Environment (all optional): PSA_BENCH_BACKENDS=sqlite,postgresql  PSA_BENCH_TENANTS=20
PSA_BENCH_CREDENTIALS=10000
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

from .load import ROOT
from .vault import env_int, fresh_database


def run_backend(backend: str, tenants: int, credentials: int, work: Path) -> dict:
    from psa_docs_vault import keys
    from psa_docs_vault.service import SERVICE
    from psa_shared.config import Settings
    from tests.vault import rotation_kit as kit

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    old = kit.master_key_entry("old", os.urandom(32))
    new = kit.master_key_entry("new", os.urandom(32))
    env = {
        "PSA_DATA_DIR": str(work),
        "PSA_KEYS_DIR": str(work / "keys"),
        "PSA_BROKER_URL": "memory://",
        **fresh_database(backend, work),
        "PSA_VAULT_MASTER_KEYS": old,
    }
    os.environ.update(env)
    settings = Settings.from_env()
    SERVICE.bind(settings)
    keys.configure(settings)
    started = time.monotonic()
    ids = kit.seed(tenants, credentials // tenants)
    seeded = time.monotonic() - started

    both = {"PSA_VAULT_MASTER_KEYS": f"{new},{old}"}
    started = time.monotonic()
    master_runs = [kit.run(["rotate-master-key"], both, kill_when=lambda: kit.rewrapped(ids, "new") > 0)]
    master_runs.append(kit.run(["rotate-master-key"], both))
    master_seconds = time.monotonic() - started

    only_new = {"PSA_VAULT_MASTER_KEYS": new}
    started = time.monotonic()
    tenant_runs = kit.rotate_tenant_keys_killed_twice(ids, only_new)
    tenant_seconds = time.monotonic() - started

    keys.configure(Settings.from_env({**os.environ, **only_new}))
    result = kit.tally(ids)
    SERVICE.db.close()
    return {
        "backend": backend,
        "seed s": f"{seeded:.1f}",
        "master job s": f"{master_seconds:.1f}",
        "master runs (exit)": " ".join(str(r.returncode) for r in master_runs),
        "tenant job s": f"{tenant_seconds:.1f}",
        "tenant runs (exit)": " ".join(str(r.returncode) for r in tenant_runs),
        "rows": result.credentials,
        "decrypt %": f"{result.decrypt_percent:.2f}",
        "rows on old versions": result.on_old_versions,
        "old data keys": result.old_data_keys,
        "keys under old master": result.under_other_master,
    }


def main() -> int:
    tenants, credentials = env_int("PSA_BENCH_TENANTS", 20), env_int("PSA_BENCH_CREDENTIALS", 10_000)
    backends = [b for b in os.environ.get("PSA_BENCH_BACKENDS", "sqlite,postgresql").split(",") if b]
    rows = []
    for backend in backends:
        work = ROOT / "var" / f"bench-rotation-{backend}-{uuid.uuid4().hex[:6]}"
        rows.append(run_backend(backend, tenants, credentials, work))
        print(rows[-1], flush=True)
    header = list(rows[0])
    lines = [
        f"# Rotation under kill -9: {credentials} credentials in {tenants} tenants",
        "",
        "Exit -9: the run was SIGKILLed (after it made progress); 0: it finished.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(str(row[k]) for k in header) + " |" for row in rows]
    report = "\n".join(lines) + "\n"
    out = ROOT / "var" / "bench-rotation-results.md"
    out.write_text(report)
    print(report)
    print(f"written to {out}")
    failed = [r for r in rows if r["decrypt %"] != "100.00" or r["rows on old versions"] or r["old data keys"]]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
