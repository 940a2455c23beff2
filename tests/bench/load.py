"""Serving an app with gunicorn and driving it with a bounded, threaded keep-alive client."""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Cpu:
    """CPU seconds the server's workers, the PostgreSQL processes and this client spent while
    answering `answered` requests (warm-up included): on a small machine all three share the CPUs,
    so a request's cost is their sum, steadier from run to run than a rate."""

    server: float = 0.0
    database: float = 0.0
    client: float = 0.0
    answered: int = 0

    def __add__(self, other: Cpu) -> Cpu:
        return Cpu(
            self.server + other.server,
            self.database + other.database,
            self.client + other.client,
            self.answered + other.answered,
        )

    def per_request_ms(self) -> tuple[float, float, float]:
        n = self.answered or 1
        return self.server / n * 1000, self.database / n * 1000, self.client / n * 1000


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    first_error: str | None = None
    latencies: list[float] = field(default_factory=list, repr=False)
    cpu: Cpu = field(default_factory=Cpu)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def cpu_cell(result: Result) -> str:
    """`total (workers + PostgreSQL + client)`, CPU milliseconds per request."""
    server, database, client = result.cpu.per_request_ms()
    return f"{server + database + client:.2f} ({server:.2f} + {database:.2f} + {client:.2f})"


_SERVERS: dict[int, int] = {}  # port -> the gunicorn master serving it


def processes() -> list[tuple[int, int, str, float]]:
    """(pid, parent pid, command name, CPU seconds) of every process."""
    found, tick = [], os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        found.append((int(entry.name), int(rest[1]), name, (int(rest[11]) + int(rest[12])) / tick))
    return found


def _cpu_now(port: int) -> tuple[float, float, float]:
    """(the server's workers, every `postgres` process, this process): CPU seconds so far."""
    master = _SERVERS.get(port)
    server = database = 0.0
    for _, parent, name, seconds in processes():
        if parent == master:
            server += seconds
        elif name == "postgres":
            database += seconds
    return server, database, time.process_time()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict, workers: int, threads: int, log: Path):
    """`gunicorn <app>` on 127.0.0.1 until the block ends; waits for /healthz (or any answer)."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out)
        _SERVERS[port] = process.pid
        try:
            wait_ready(port, process, log)
            yield port
        finally:
            _SERVERS.pop(port, None)
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_ready(port: int, process, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in time")


def probe(port: int, request) -> tuple[int, str]:
    method, path, body, headers = request()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()[:300].decode(errors="replace")


# A keep-alive connection stays with the gunicorn worker that accepted it, and 8 connections
# opened at once can all land on one of the two workers: one run then measures one process, the
# next two (reads seen at 580 and at 1,520 req/s, same code, back to back). Reconnecting every
# so often spreads every run over the workers the way many clients would.
REQUESTS_PER_CONNECTION = 50


def drive(port: int, request, expect: int, seconds: float, concurrency: int, warmup: float = 1.0) -> Result:
    """Run `request()` (-> method, path, body, headers) from `concurrency` threads for `seconds`."""
    latencies: list[float] = []
    errors = [0]
    first_error: list[str] = []
    answered = [0]
    lock = threading.Lock()
    cpu_before = _cpu_now(port)
    start = time.monotonic()
    measure_from, stop_at = start + warmup, start + warmup + seconds

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, bad, served = [], 0, 0
        while (now := time.monotonic()) < stop_at:
            method, path, body, headers = request()
            served += 1
            if served % REQUESTS_PER_CONNECTION == 0:
                connection.close()  # the next request reconnects, to whichever worker accepts it
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                ok = response.status == expect
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                ok, data = False, str(error).encode()
            elapsed = time.monotonic() - now
            if now >= measure_from:
                if ok:
                    mine.append(elapsed)
                else:
                    bad += 1
                    if not first_error:
                        with lock:
                            first_error.append(data[:300].decode(errors="replace"))
        with lock:
            latencies.extend(mine)
            errors[0] += bad
            answered[0] += served

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    spent = [after - before for before, after in zip(cpu_before, _cpu_now(port), strict=True)]
    return _result(latencies, errors[0], seconds, first_error[0] if first_error else None, Cpu(*spent, answered[0]))


def _result(latencies: list[float], errors: int, seconds: float, first_error: str | None, cpu: Cpu) -> Result:
    ordered = sorted(latencies) or [0.0]
    return Result(
        requests=len(latencies),
        errors=errors,
        seconds=seconds,
        p50_ms=statistics.median(ordered) * 1000,
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        first_error=first_error,
        latencies=latencies,
        cpu=cpu,
    )


# This machine's speed drifts from one second to the next (the baseline's insert rate was seen at
# 943 and at 1,396 requests/s in consecutive scenarios): measured one after the other, PSA and
# the baseline could meet different machines. Taking turns in short slices gives both the same.
SLICES = 5


def side_by_side(first: tuple, second: tuple, seconds: float, concurrency: int) -> tuple[Result, Result]:
    """Drive two (port, request, expect) targets in alternating slices adding up to `seconds` each."""
    slices: tuple[list, list] = ([], [])
    for n in range(SLICES):
        for target, results in zip((first, second), slices, strict=True):
            warmup = 1.0 if n == 0 else 0.2  # later slices only open their connections again
            results.append(drive(*target, seconds / SLICES, concurrency, warmup=warmup))
    return tuple(_merged(results) for results in slices)


def _merged(results: list[Result]) -> Result:
    errors = [r.first_error for r in results if r.first_error]
    return _result(
        [t for r in results for t in r.latencies],
        sum(r.errors for r in results),
        sum(r.seconds for r in results),
        errors[0] if errors else None,
        sum((r.cpu for r in results), Cpu()),
    )


def json_request(method: str, path: str, body: dict | None = None, token: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return method, path, json.dumps(body) if body is not None else None, headers


def pick(values: list[str]) -> str:
    return random.choice(values)
