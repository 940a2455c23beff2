"""A new user's first minutes: `psa serve` on a fresh data dir, then the CLI beside it."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import Request, urlopen

import pytest

PSA = str(Path(sys.executable).parent / "psa")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str | None = None) -> dict:
    request = Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture
def server(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSA_")} | {"PSA_DATA_DIR": str(tmp_path / "var")}
    port = free_port()
    process = subprocess.Popen(
        [PSA, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "serving" in line:
            break
    server_process[:] = [process]
    yield f"http://127.0.0.1:{port}", "".join(lines), env
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=30)


server_process: list[subprocess.Popen] = []  # the fixture's, for a test that stops it itself


def cli(env, *args) -> dict:
    return json.loads(subprocess.run([PSA, *args], env=env, check=True, capture_output=True, text=True).stdout)


def test_first_run_prints_a_token_that_works_against_clients(server):
    base_url, printed, _ = server
    assert "Demo tenant" in printed and "admin@demo-msp.example" in printed and "password" in printed
    assert "WARNING" not in printed  # a first run says how to sign in, and nothing to worry about
    token = next(line.split()[-1] for line in printed.splitlines() if "token (12 h)" in line)
    clients = get(f"{base_url}/api/v1/clients", token)
    assert {"Acme Dental", "Riverside Law"} <= {c["name"] for c in clients["items"]}
    assert get(f"{base_url}/healthz")["status"] == "ok"


def test_cli_creates_a_tenant_and_issues_tokens_while_the_server_runs(server):
    base_url, _, env = server
    made = cli(env, "tenant", "create", "Acme MSP", "--admin-email", "boss@acme.example")
    assert set(made) == {"tenant_id", "admin_member_id", "access_token"}
    assert get(f"{base_url}/api/v1/auth/me", made["access_token"])["tenant_id"] == made["tenant_id"]
    issued = cli(env, "token", "issue", "--tenant", made["tenant_id"], "--email", "boss@acme.example", "--ttl", "60")
    assert get(f"{base_url}/api/v1/clients", issued["access_token"])["items"] == []
    # The server's relay publishes what the CLI wrote (the outbox drains without a restart).
    import sqlite3

    deadline = time.time() + 10
    while time.time() < deadline:
        with sqlite3.connect(Path(env["PSA_DATA_DIR"]) / "tickets.db") as db:
            if db.execute("select count(*) from outbox where published_at is null").fetchone()[0] == 0:
                break
        time.sleep(0.2)
    else:
        pytest.fail("the CLI's events were not relayed by the running server")


def test_docker_stop_drains_and_exits_as_ctrl_c_does(server):
    """`docker stop` and systemd send SIGTERM: the server stops its workers as on Ctrl-C (the
    consumers apply what they still hold) and exits 0, instead of dying where it stood."""
    base_url, _, env = server
    process = server_process[0]
    process.terminate()
    rest = process.stdout.read()
    assert process.wait(timeout=30) == 0, rest
    assert "Traceback" not in rest


def test_a_port_in_use_stops_before_anything_starts(tmp_path):
    """A second `make run` while the first still serves: it says so, before it makes a demo tenant
    or starts a relay on the first one's data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSA_")} | {"PSA_DATA_DIR": str(tmp_path / "var")}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([PSA, "serve", "--port", str(port)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and f"Port {port} is in use" in done.stderr, done.stderr
    assert "Demo tenant" not in done.stdout and "token" not in done.stdout


def test_a_sweep_run_from_the_wrong_directory_says_so_instead_of_closing_nothing(tmp_path):
    """A cron job `cd`s nowhere: `psa tickets sweep` finds a data dir without tenants and exits 1,
    rather than printing "auto-closed 0 ticket(s)" every five minutes for ever, and leaves no
    database behind there (until 2026-11-27 it made one, then refused it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSA_")} | {"PSA_DATA_DIR": str(tmp_path / "var")}
    done = subprocess.run([PSA, "tickets", "sweep"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "no tickets database at sqlite:///" in done.stderr, done.stderr
    assert not (tmp_path / "var").exists()
    (tmp_path / "var").mkdir()
    subprocess.run([PSA, "migrate"], env=env, capture_output=True, check=True, timeout=60)
    done = subprocess.run([PSA, "tickets", "sweep"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "no tenant in the tickets database" in done.stderr, done.stderr
    refused = subprocess.run([PSA, "tickets", "sweep", "--every", "0"], env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and "--every" in refused.stderr, refused.stderr


def test_ctrl_c_stops_a_server_a_script_started_in_the_background(tmp_path):
    """`make run &` from a script: the shell starts it with SIGINT ignored, and Python then never
    raised KeyboardInterrupt, so `kill -INT` (what Ctrl-C sends) left it serving for good."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSA_")} | {"PSA_DATA_DIR": str(tmp_path / "var")}
    process = subprocess.Popen(
        [PSA, "serve", "--port", str(free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # as `cmd &` in a script
    )
    try:
        for line in process.stdout:
            if "serving" in line:
                break
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()  # a no-op once it has stopped
        process.wait()
