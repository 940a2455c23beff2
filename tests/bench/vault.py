"""Vault benchmark (`python -m tests.bench.vault`): reveal requests/s next to a plain authenticated
read of the same credential's metadata, in the same run, on SQLite and PostgreSQL.

The docs vault alone is served by gunicorn (same settings for both scenarios). Its database is
seeded directly: a member and a client in the projection (as the events would write them), the
tenant's reveal limit raised out of the way, one credential. Every measured reveal still pays
for what a real one does: the per-tenant audit lock, the rate-limit count, decryption and a
hash-chained audit row in the same transaction.

Environment (all optional): PSA_BENCH_BACKENDS=sqlite,postgresql  PSA_BENCH_SECONDS=5
PSA_BENCH_CONCURRENCY=8  PSA_BENCH_WORKERS=2  PSA_BENCH_THREADS=4
Target (issue 4): reveal at least half the rate of the read.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import sys
import uuid
from pathlib import Path

from .load import ROOT, cpu_cell, drive, gunicorn, json_request, probe

DATABASE = "psa_bench_docs_vault"


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def fresh_database(backend: str, work: Path) -> dict[str, str]:
    """The vault's database settings: on PostgreSQL the app's role and the owner's, as the tests'."""
    if backend == "sqlite":
        return {"PSA_DOCS_VAULT_DATABASE_URL": f"sqlite:///{work / 'docs_vault.db'}"}
    from psa_shared.testing import fresh_pg_database

    return fresh_pg_database(DATABASE).settings("docs_vault")


def seed(env: dict) -> tuple[str, str]:
    """A tenant with an admin, a client and one credential; returns (token, credential id)."""
    from psa_docs_vault import audit, keys
    from psa_docs_vault.credentials import service
    from psa_docs_vault.credentials.models import VaultSettings
    from psa_docs_vault.projection import ClientRecord, MemberRecord
    from psa_docs_vault.service import SERVICE
    from psa_shared.auth import KeyRing, MemberView, Principal
    from psa_shared.config import Settings
    from psa_shared.ids import new_id
    from psa_shared.outbox import utcnow
    from psa_shared.tenancy import tenant_scope

    settings = Settings.from_env(env)
    SERVICE.bind(settings)
    keys.configure(settings)
    tenant_id, member_id, client_id = new_id(), new_id(), new_id()
    view = MemberView(member_id, tenant_id, "admin", True, "bench", True)
    with SERVICE.db.proxy.connection_context(), tenant_scope(tenant_id):
        MemberRecord.create(
            id=member_id,
            email="admin@bench.example",
            name="Bench Admin",
            role="admin",
            active=True,
            stamp="bench",
            all_clients=True,
            updated_at=utcnow(),
        )
        ClientRecord.create(id=client_id, name="Bench Client", number=1, active=True, updated_at=utcnow())
        VaultSettings.create(id=tenant_id, reveal_limit_per_hour=1_000_000_000)
        credential = service.create(
            Principal(view),
            audit.Context(actor_id=member_id),
            {"client_id": client_id, "name": "Core switch", "username": "admin", "secret": "bench-secret"},
        )
    SERVICE.db.close()
    token = KeyRing.load(settings, issuer=True).mint(view, 6 * 3600)
    return token, str(credential.id)


def run_backend(backend: str, knobs: dict, work: Path) -> list[dict]:
    import base64

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = {
        "PSA_DATA_DIR": str(work),
        "PSA_KEYS_DIR": str(work / "keys"),
        "PSA_BROKER_URL": "memory://",
        **fresh_database(backend, work),
        "PSA_VAULT_MASTER_KEYS": "bench:" + base64.b64encode(os.urandom(32)).decode(),
    }
    token, credential_id = seed(env)
    read = lambda: json_request("GET", f"/api/v1/credentials/{credential_id}", None, token)  # noqa: E731
    reveal = lambda: json_request(  # noqa: E731
        "POST", f"/api/v1/credentials/{credential_id}/reveal", {"reason": "bench"}, token
    )
    server = {"workers": knobs["workers"], "threads": knobs["threads"]}
    rows = []
    with gunicorn("psa_shared.wsgi:create_app('docs_vault')", env, log=work / "gunicorn.log", **server) as port:
        for name, request, expect in (("metadata read", read, 200), ("reveal", reveal, 200)):
            status, body = probe(port, request)
            if status != expect:
                raise RuntimeError(f"[{backend}] {name}: probe answered {status}: {body}")
            result = drive(port, request, expect, knobs["seconds"], knobs["concurrency"])
            rows.append({"backend": backend, "scenario": name, "result": result})
            print(
                f"[{backend}] {name}: {result.rate:.0f} req/s, p50 {result.p50_ms:.1f} ms, "
                f"p99 {result.p99_ms:.1f} ms, CPU {cpu_cell(result)} ms, errors {result.errors}"
                + (f" (first: {result.first_error[:120]})" if result.first_error else ""),
                flush=True,
            )
    return rows


def table(rows: list[dict], knobs: dict) -> str:
    lines = [
        "# Vault benchmark: reveal vs metadata read",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()} x{os.cpu_count()}, "
        f"Python {sys.version.split()[0]}; gunicorn gthread {knobs['workers']} workers x {knobs['threads']} "
        f"threads, {knobs['concurrency']} client threads, {knobs['seconds']} s per scenario.",
        "",
        "| backend | scenario | req/s | p50 ms | p99 ms | errors | CPU ms/req (workers + PostgreSQL + client) "
        "| reveal / read |",
        "|---|---|---:|---:|---:|---:|---|---:|",
    ]
    reads = {r["backend"]: r["result"].rate for r in rows if r["scenario"] == "metadata read"}
    for row in rows:
        result = row["result"]
        ratio = ""
        if row["scenario"] == "reveal" and reads.get(row["backend"]):
            ratio = f"{result.rate / reads[row['backend']]:.2f} (target >= 0.5)"
        lines.append(
            f"| {row['backend']} | {row['scenario']} | {result.rate:.0f} | {result.p50_ms:.1f} | "
            f"{result.p99_ms:.1f} | {result.errors} | {cpu_cell(result)} | {ratio} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    knobs = {
        "seconds": env_int("PSA_BENCH_SECONDS", 5),
        "concurrency": env_int("PSA_BENCH_CONCURRENCY", 8),
        "workers": env_int("PSA_BENCH_WORKERS", 2),
        "threads": env_int("PSA_BENCH_THREADS", 4),
    }
    backends = [b for b in os.environ.get("PSA_BENCH_BACKENDS", "sqlite,postgresql").split(",") if b]
    rows = []
    for backend in backends:
        rows += run_backend(backend, knobs, ROOT / "var" / f"bench-vault-{backend}-{uuid.uuid4().hex[:6]}")
    report = table(rows, knobs)
    out = ROOT / "var" / "bench-vault-results.md"
    out.write_text(report)
    print(report)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
