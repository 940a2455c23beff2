"""`make run` killed outright (kill -9, the laptop's battery) loses no event: what memory:// held
when the process died is relayed again at the next start, and the consumers skip what they had.

The vault is kept from applying (its database held by another writer, as a backup tool might)
while the tickets service relays a new client's `client.created`: the event is published and
the outbox holds it as sent, but the vault has not applied it when the process is SIGKILLed.
Until 2026-11-27 the vault never learnt that client."""

import json
import os
import signal
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path
from urllib.request import Request, urlopen

import pytest

from psa_shared.testing import BACKENDS

from ..e2e.test_embedded_run import PSA, free_port

pytestmark = pytest.mark.skipif("embedded" not in BACKENDS, reason="embedded mode only (memory://)")


class Serve:
    """`psa serve` on a data dir, as `make run` starts it."""

    def __init__(self, data_dir: Path):
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PSA_")} | {"PSA_DATA_DIR": str(data_dir)}
        self.port = free_port()
        # To a file, not a pipe: a pipe nobody reads after start-up fills with the server's log
        # (retries under load) and blocks it, and then it cannot stop either.
        self.log = data_dir.parent / f"psa-serve-{self.port}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [PSA, "serve", "--port", str(self.port)], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        wait_for(lambda: "serving" in self.printed or self.process.poll() is not None, 60, "psa serve started")
        if "serving" not in self.printed:
            pytest.fail(f"psa serve did not start:\n{self.printed}")
        self.token = next(line.split()[-1] for line in self.printed.splitlines() if "token (12 h)" in line)

    @property
    def printed(self) -> str:
        return self.log.read_text()

    def post(self, path: str, body: dict) -> dict:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        request = Request(f"http://127.0.0.1:{self.port}{path}", json.dumps(body).encode(), headers)
        with urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Ctrl-C: the consumers apply what is queued, and the watermark moves past it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=60)  # its loops get 5 s each to stop: slow on a loaded machine


def query(path: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(path, timeout=10) as db:
        return db.execute(sql, params).fetchall()


def wait_for(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds} s: {what}")
        time.sleep(0.1)


def outbox_row(data_dir: Path, client_id: str) -> tuple | None:
    """The client's `client.created` row: (id, published_at), or None before it is written."""
    found = query(
        data_dir / "tickets.db",
        "SELECT id, published_at FROM outbox WHERE type = 'client.created' AND body LIKE ?",
        f'%"id":"{client_id}"%',
    )
    return found[0] if found else None


def applied_by_vault(data_dir: Path, event_id) -> bool:
    ids = {str(uuid.UUID(str(i))) for (i,) in query(data_dir / "docs_vault.db", "SELECT id FROM inbox")}
    return str(uuid.UUID(str(event_id))) in ids


def test_client_added_just_before_kill_9_reaches_the_vault_after_restart(tmp_path):
    data_dir = tmp_path / "var"
    server = Serve(data_dir)
    # The vault's database held by another writer: its consumer takes the event and waits.
    holder = sqlite3.connect(data_dir / "docs_vault.db", timeout=10, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        client = server.post("/api/v1/clients", {"name": "Harbour Dental"})
        wait_for(lambda: (outbox_row(data_dir, client["id"]) or (None, None))[1] is not None, 10, "relayed")
        event_id = outbox_row(data_dir, client["id"])[0]
        assert not applied_by_vault(data_dir, event_id)
        server.kill()  # memory:// dies here, with the event in it
    finally:
        holder.close()  # rolls back
        server.stop()

    server = Serve(data_dir)
    try:
        wait_for(lambda: applied_by_vault(data_dir, event_id), 10, "the vault applied client.created after restart")
        assert "relayed again" in server.printed
    finally:
        server.stop()

    server = Serve(data_dir)  # after Ctrl-C, nothing is relayed twice
    server.stop()
    assert "relayed again" not in server.printed
