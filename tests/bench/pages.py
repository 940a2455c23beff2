"""Pagination at a million tickets (`python -m tests.bench.pages`): does page N cost what page 1 costs?

Seeds one tenant with PSA_BENCH_PAGE_TICKETS tickets (default 1,000,000; time entries are not on
this path, so only the 500-entry ticket has any), serves the tickets service alone with gunicorn
and, from one client (latency, not throughput), asks each filter of `GET /api/v1/tickets` for its
first page and for a deep one: the page reached by following `next_cursor` PSA_BENCH_PAGE_DEPTH
tickets in (default 500,000, or the filter's last page if it has fewer). The work queue's deep
page is PSA_BENCH_WORK_DEPTH items in (default 5,000). Each page is asked
PSA_BENCH_PAGE_REPEATS times (default 100); p50 and p99 in ms. The seeded tenant has 30 % of its
tickets open and 10 % waiting, far more than a real MSP's: the work queue sorts all of them.

Environment (all optional): PSA_BENCH_BACKENDS=sqlite,postgresql and the sizes above.
Target (issue 3): stable pagination that stays fast at 1M tickets (the list's p99 target is 50 ms).
"""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

from .__main__ import each_backend, env_int, heading, seeded_database, write_report
from .load import gunicorn, json_request

WALK_LIMIT = 200  # pages of the walk to the deep cursor: the cursor does not depend on the limit


TICKETS, WORK = "/api/v1/tickets", "/api/v1/work"


def lists(seeded) -> dict[str, tuple[str, dict[str, str]]]:
    """Each filter of the ticket list as an MSP would ask it, from the broad ones (walking the
    tenant's newest first) to the selective ones (an index of their own), and combinations that
    match few tickets; then the work queue (sorted by priority, due time and age, not by id)."""
    client, member = seeded.client_ids[0], seeded.member_ids[1]
    return {
        "no filter": (TICKETS, {}),
        "status open": (TICKETS, {"status_kind": "open"}),
        "priority P1": (TICKETS, {"priority": "P1"}),
        "client": (TICKETS, {"client_id": client}),
        "assignee": (TICKETS, {"assignee_id": member}),
        "unassigned": (TICKETS, {"assignee_id": "unassigned"}),
        "client, open": (TICKETS, {"client_id": client, "status_kind": "open"}),
        "assignee, waiting": (TICKETS, {"assignee_id": member, "status_kind": "waiting"}),
        "waiting P1 (none match)": (TICKETS, {"status_kind": "waiting", "priority": "P1"}),
        "work queue": (WORK, {}),
        "work queue, member": (WORK, {"member_id": member}),
        "work queue, unassigned": (WORK, {"unassigned": "true"}),
    }


def _get(port: int, token: str, path: str, query: dict) -> tuple[float, dict]:
    method, path, body, headers = json_request("GET", f"{path}?{urllib.parse.urlencode(query)}", None, token)
    connection = _connections.get(port) or _connections.setdefault(port, http.client.HTTPConnection("127.0.0.1", port))
    started = time.monotonic()
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    elapsed = (time.monotonic() - started) * 1000
    if response.status != 200:
        raise RuntimeError(f"{query}: {response.status} {data[:200]!r}")
    return elapsed, json.loads(data)


_connections: dict[int, http.client.HTTPConnection] = {}  # one keep-alive connection per server


def _deep_cursor(port: int, token: str, path: str, query: dict, depth: int) -> tuple[str | None, int]:
    """The cursor `depth` items in (or of the list's last page); how many items it skips."""
    cursor, skipped, last = None, 0, None
    while skipped < depth:
        _, page = _get(port, token, path, {**query, "limit": WALK_LIMIT, **({"after": cursor} if cursor else {})})
        if not page["next_cursor"]:
            break
        last, cursor = cursor, page["next_cursor"]
        skipped += len(page["items"])
    return cursor or last, skipped


def _timed(port: int, token: str, path: str, query: dict, repeats: int) -> tuple[float, float, int]:
    times, items = [], 0
    for _ in range(repeats):
        elapsed, page = _get(port, token, path, query)
        times.append(elapsed)
        items = len(page["items"])
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], items


def run_backend(backend: str, tickets: int, depth: int, work_depth: int, repeats: int, work: Path) -> tuple[dict, list]:
    env, _, seeded = seeded_database(backend, tickets, min(tickets, 1000), work)
    rows = []
    log = work / f"gunicorn-pages-{backend}.log"
    with gunicorn("psa_shared.wsgi:create_app('tickets')", env, workers=1, threads=1, log=log) as port:
        for name, (path, query) in lists(seeded).items():
            first = _timed(port, seeded.token, path, query, repeats)
            walk = depth if path == TICKETS else min(depth, work_depth)
            cursor, skipped = _deep_cursor(port, seeded.token, path, query, walk)
            deep = _timed(port, seeded.token, path, {**query, "after": cursor}, repeats) if cursor else None
            rows.append({"scenario": name, "first": first, "deep": deep, "skipped": skipped})
            deep_text = f"{deep[0]:.1f} / {deep[1]:.1f} ms after {skipped:,}" if deep else "one page only"
            print(f"[{backend}] {name}: first {first[0]:.1f} / {first[1]:.1f} ms, deep {deep_text}", flush=True)
    return {"backend": backend, "tickets": seeded.tickets, "seed_seconds": seeded.seconds}, rows


def table(results: list[tuple[dict, list]], repeats: int) -> str:
    lines = heading(
        "Pagination benchmark",
        f"gunicorn 1 worker x 1 thread, one client; each page asked {repeats} times, limit 50. "
        "Deep: the page after following `next_cursor` that many items in (the last page when fewer).",
    )
    for info, rows in results:
        lines += [
            f"## {info['backend']}: {info['tickets']:,} tickets (seeded in {info['seed_seconds']:.0f} s)",
            "",
            "| list | first page p50 ms | p99 ms | items | deep page p50 ms | p99 ms | items | items skipped |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in rows:
            first, deep = row["first"], row["deep"]
            deep_cells = f"{deep[0]:.1f} | {deep[1]:.1f} | {deep[2]}" if deep else "- | - | -"
            first_cells = f"{first[0]:.1f} | {first[1]:.1f} | {first[2]}"
            lines.append(f"| {row['scenario']} | {first_cells} | {deep_cells} | {row['skipped']:,} |")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    tickets = env_int("PSA_BENCH_PAGE_TICKETS", 1_000_000)
    depth = env_int("PSA_BENCH_PAGE_DEPTH", 500_000)
    work_depth = env_int("PSA_BENCH_WORK_DEPTH", 5_000)
    repeats = env_int("PSA_BENCH_PAGE_REPEATS", 100)
    results = each_backend(lambda backend, work: run_backend(backend, tickets, depth, work_depth, repeats, work))
    write_report(table(results, repeats), "bench-pages.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
