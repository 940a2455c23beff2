"""`make bench` (`python -m tests.bench`): PSA Core's tickets service next to a bare Flask baseline.

Environment (all optional):
  PSA_BENCH_TICKETS=100000  PSA_BENCH_ENTRIES=1000000   size of the seeded tenant
  PSA_BENCH_BACKENDS=sqlite,postgresql                  which databases (PostgreSQL on 127.0.0.1:5432)
  PSA_BENCH_SECONDS=5  PSA_BENCH_CONCURRENCY=8          measured seconds per scenario, client threads
  PSA_BENCH_WORKERS=2  PSA_BENCH_THREADS=4              gunicorn settings, the same for both apps
  PSA_BENCH_ONLY="ticket create,backlog report"         run only these scenarios (default: all)
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path

from .load import ROOT, SLICES, cpu_cell, gunicorn, json_request, pick, probe, side_by_side
from .seed import seed

PREPARE = "from psa_shared.wsgi import create_app; create_app('tickets')"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SOLO = ("filtered ticket list", "timeline (500 entries)", "backlog report")
TARGETS = {
    "ticket create": "rate >= 0.5 x baseline",
    "time-entry create": "rate >= 0.5 x baseline",
    "filtered ticket list": "rate >= 0.5 x baseline, p99 < 50 ms",
    "timeline (500 entries)": "-",
    "timeline (500 entries) (1 client)": "-",
    "backlog report": "p50 < 200 ms",
    "filtered ticket list (1 client)": "p99 < 50 ms",
    "backlog report (1 client)": "p99 < 200 ms",
}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def fresh_database(backend: str, work: Path) -> tuple[dict[str, str], str]:
    """(the tickets service's database settings, the baseline's URL). On PostgreSQL, PSA Core
    connects as the tests' app role under row-level security, its schema made by the owner role;
    the bare baseline connects as the administrator, as it did before there were policies to skip."""
    if backend == "sqlite":
        path = work / "psa_bench_tickets.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return {"PSA_TICKETS_DATABASE_URL": f"sqlite:///{path}"}, f"sqlite:///{path}"
    from psa_shared.testing import fresh_pg_database

    database = fresh_pg_database("psa_bench_tickets")
    return database.settings("tickets"), database.admin_url


def scenarios(s, token: str) -> list[tuple[str, object, int, object, int]]:
    """(name, PSA request, expected status, baseline request, expected status)."""
    started = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    insert = lambda: json_request("POST", "/insert", {"summary": "Baseline row"})  # noqa: E731
    page = lambda: json_request("GET", f"/page?client_id={pick(s.client_ids)}")  # noqa: E731
    return [
        (
            "ticket create",
            lambda: json_request(
                "POST", "/api/v1/tickets", {"client_id": pick(s.client_ids), "summary": "Printer jams"}, token
            ),
            201,
            insert,
            201,
        ),
        (
            "time-entry create",
            lambda: json_request(
                "POST",
                f"/api/v1/tickets/{pick(s.open_ticket_ids)}/time-entries",
                {"minutes": 5, "started_at": started, "billing": "billable", "notes": "Called client."},
                token,
            ),
            201,
            insert,
            201,
        ),
        (
            "filtered ticket list",
            lambda: json_request(
                "GET", f"/api/v1/tickets?status_kind=open&client_id={pick(s.client_ids)}", None, token
            ),
            200,
            page,
            200,
        ),
        (
            "timeline (500 entries)",
            lambda: json_request("GET", f"/api/v1/tickets/{s.big_ticket_id}/timeline", None, token),
            200,
            page,
            200,
        ),
        ("backlog report", lambda: json_request("GET", "/api/v1/reports/backlog", None, token), 200, page, 200),
    ]


def seeded_database(backend: str, tickets: int, entries: int, work: Path):
    """A fresh database of `backend` seeded with one large tenant, its tables and indexes as the
    code on disk has them: (the tickets service's environment, the baseline's URL, `Seeded`)."""
    from psa_shared.config import Settings
    from psa_tickets import service  # noqa: F401  (every table registered before binding)
    from psa_tickets.database import db

    database, baseline_url = fresh_database(backend, work)
    env = {
        **database,
        "PSA_DATA_DIR": str(work / "data"),
        "PSA_KEYS_DIR": str(work / "keys"),
        "PSA_BROKER_URL": "memory://",
    }
    os.environ.update(env)
    settings = Settings.from_env()
    db.bind(settings.schema_url("tickets") or settings.database_url("tickets"))  # seeded by the owner
    db.create_tables()
    print(f"[{backend}] seeding {tickets} tickets / {entries} time entries ...", flush=True)
    seeded = seed(settings, tickets, entries)
    if hasattr(db.proxy.obj, "close_all"):
        db.proxy.obj.close_all()
    db.proxy.obj.close()
    print(f"[{backend}] seeded in {seeded.seconds:.0f} s", flush=True)
    # Tables and indexes as the code on disk has them now, from one process: gunicorn workers
    # creating a missing index at the same time race on PostgreSQL.
    subprocess.run([sys.executable, "-c", PREPARE], cwd=ROOT, env={**os.environ, **env}, check=True)
    return env, baseline_url, seeded


def run_backend(backend: str, tickets: int, entries: int, knobs: dict, work: Path) -> tuple[dict, list]:
    env, baseline_url, seeded = seeded_database(backend, tickets, entries, work)
    info = {"backend": backend, "tickets": seeded.tickets, "entries": seeded.entries, "seed_seconds": seeded.seconds}
    rows = []
    base_env = {**env, "PSA_BENCH_BASELINE_URL": baseline_url, "PSA_BENCH_TENANT": seeded.tenant_id}
    server = {"workers": knobs["workers"], "threads": knobs["threads"]}
    with (
        gunicorn(
            "psa_shared.wsgi:create_app('tickets')", env, log=work / f"gunicorn-psa-{backend}.log", **server
        ) as psa,
        gunicorn(
            "tests.bench.baseline:create_app()", base_env, log=work / f"gunicorn-base-{backend}.log", **server
        ) as base,
    ):
        only = {n.strip() for n in os.environ.get("PSA_BENCH_ONLY", "").split(",") if n.strip()}
        for name, psa_request, psa_expect, base_request, base_expect in scenarios(seeded, seeded.token):
            if only and name not in only:
                continue
            status, body = probe(psa, psa_request)
            if status != psa_expect:
                print(f"[{backend}] {name}: SKIPPED (probe answered {status}: {body[:120]})", flush=True)
                rows.append({"scenario": name, "skipped": f"probe answered {status}"})
                continue
            pair = (psa, psa_request, psa_expect), (base, base_request, base_expect)
            measured, baseline = side_by_side(*pair, knobs["seconds"], knobs["concurrency"])
            rows.append({"scenario": name, "psa": measured, "baseline": baseline})
            print(f"[{backend}] {name}: {measured.rate:.0f} req/s p50 {measured.p50_ms:.1f} ms "
                  f"p99 {measured.p99_ms:.1f} ms, CPU {cpu_cell(measured)} ms | baseline {baseline.rate:.0f} req/s, "
                  f"CPU {cpu_cell(baseline)} ms", flush=True)  # fmt: skip
            if name in SOLO:  # latency without queueing behind other clients on a small machine
                measured, baseline = side_by_side(*pair, knobs["seconds"], 1)
                rows.append({"scenario": f"{name} (1 client)", "psa": measured, "baseline": baseline})
    return info, rows


def heading(title: str, how: str) -> list[str]:
    """A report's first lines: its title and time, the machine, and how it was measured."""
    machine = f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}."
    return [f"# {title} ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)", "", f"{machine} {how}", ""]


def table(results: list[tuple[dict, list]], knobs: dict) -> str:
    lines = heading(
        "Benchmark results",
        f"gunicorn gthread, {knobs['workers']} workers x {knobs['threads']} threads for both apps; "
        f"client: {knobs['concurrency']} keep-alive threads, {knobs['seconds']} s measured per scenario "
        f"and app, in {SLICES} slices taking turns with the baseline (1 s warm-up before the first, "
        "0.2 s before each other), on the same machine. CPU ms/req: CPU time of the server's workers, "
        "of every PostgreSQL process and of the client per request answered (warm-up included), as "
        "total (workers + PostgreSQL + client); CPU vs baseline: the baseline's total over PSA Core's.",
    )
    for info, rows in results:
        lines += [
            f"## {info['backend']}: {info['tickets']:,} tickets, {info['entries']:,} time entries "
            f"(seeded in {info['seed_seconds']:.0f} s)",
            "",
            "| scenario | PSA req/s | p50 ms | p99 ms | errors | baseline req/s | baseline p50 | baseline p99 "
            "| rate vs baseline | target | PSA CPU ms/req | baseline CPU ms/req | CPU vs baseline |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for row in rows:
            if "skipped" in row:
                lines.append(f"| {row['scenario']} | skipped: {row['skipped']} |" + " |" * 11)
                continue
            m, b = row["psa"], row["baseline"]
            ratio = m.rate / b.rate if b.rate else 0
            lines.append(
                f"| {row['scenario']} | {m.rate:.0f} | {m.p50_ms:.1f} | {m.p99_ms:.1f} | {m.errors} | {b.rate:.0f} "
                f"| {b.p50_ms:.1f} | {b.p99_ms:.1f} | {ratio:.2f} | {TARGETS[row['scenario']]} "
                f"| {cpu_cell(m)} | {cpu_cell(b)} | {cpu_total(b) / (cpu_total(m) or 1):.2f} |"
            )
            if m.first_error:
                lines.append(f"|  first PSA error: `{m.first_error[:150]}` |" + " |" * 12)
        lines.append("")
    return "\n".join(lines)


def cpu_total(result) -> float:
    return sum(result.cpu.per_request_ms())


def main() -> int:
    tickets = env_int("PSA_BENCH_TICKETS", 100_000)
    entries = env_int("PSA_BENCH_ENTRIES", 1_000_000)
    knobs = {
        "seconds": env_int("PSA_BENCH_SECONDS", 5),
        "concurrency": env_int("PSA_BENCH_CONCURRENCY", 8),
        "workers": env_int("PSA_BENCH_WORKERS", 2),
        "threads": env_int("PSA_BENCH_THREADS", 4),
    }
    results = each_backend(lambda backend, work: run_backend(backend, tickets, entries, knobs, work))
    write_report(table(results, knobs), "bench-results.md")
    return 0


def each_backend(run) -> list:
    """`run(backend, work directory)` for each of PSA_BENCH_BACKENDS; PostgreSQL skipped when unreachable."""
    backends = [b.strip() for b in os.environ.get("PSA_BENCH_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]
    work = ROOT / "var" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for backend in backends:
        if backend == "postgresql" and not _postgres_reachable():
            print("[postgresql] 127.0.0.1:5432 unreachable: skipped", flush=True)
            continue
        results.append(run(backend, work))
    return results


def write_report(report: str, name: str) -> None:
    print("\n" + report)
    (ROOT / "var" / name).write_text(report + "\n")
    print(f"\nwritten to {ROOT / 'var' / name}")


def _postgres_reachable() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
        return True
    except Exception:  # noqa: BLE001  (any failure means: not there)
        return False


if __name__ == "__main__":
    sys.exit(main())
