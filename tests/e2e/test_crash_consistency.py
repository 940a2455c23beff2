"""A crash mid-way leaves every write whole. Techs open tickets and log calls against them through
gunicorn (the deploy config) while its workers are killed with SIGKILL and, on PostgreSQL, every
server connection of the service is dropped, then the server itself restarted (where it is a
Debian cluster, as in CI).
Afterwards, read straight from the database: every acknowledged ticket and time entry is there,
each ticket has its `created` trail row and its `ticket.created` event, each entry its
`time_entry.logged` event, and each ticket's spent minutes are the sum of its entries."""

import datetime as dt
import http.client
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from psa_shared.testing import end_server_processes, pg_admin_url

from ..bench.load import processes
from .test_embedded_run import PSA, cli
from .test_gunicorn_deploy import deploy_env, serving_tickets

APP_NAME = "psa-crash-test"  # the gunicorn workers' PostgreSQL connections, and only theirs, are dropped
TECHS = 4


class Desk:
    """The techs' side: what the service acknowledged, and how the other requests failed."""

    def __init__(self, port: int, token: str, client_id: str):
        self.port, self.token, self.client_id = port, token, client_id
        self.tickets: dict[str, int] = {}  # id -> number
        self.entries: dict[str, tuple[str, int]] = {}  # id -> (ticket id, minutes)
        self.failures: Counter = Counter()  # "connection lost", "503 application/problem+json", ...
        self.acknowledged_at: list[float] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def post(self, connection, path: str, body: dict) -> dict | None:
        try:
            connection.request("POST", path, json.dumps(body), {
                "Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
            })  # fmt: skip
            response = connection.getresponse()
            status, content_type, data = response.status, response.getheader("Content-Type"), response.read()
        except (OSError, http.client.HTTPException):
            connection.close()  # the worker died under it; the next request reconnects
            with self.lock:
                self.failures["connection lost"] += 1
            return None
        if status == 201:
            with self.lock:
                self.acknowledged_at.append(time.monotonic())
            return json.loads(data)
        with self.lock:
            self.failures[f"{status} {content_type}"] += 1
        return None

    def work(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            ticket = self.post(connection, "/api/v1/tickets", {"client_id": self.client_id, "summary": "Mailbox full"})
            if ticket is None:
                continue
            with self.lock:
                self.tickets[ticket["id"]] = ticket["number"]
            started = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
            for minutes, outcome, notes in ((0, "no_response", "Called client. Left voicemail."), (15, None, "Fixed.")):
                path = f"/api/v1/tickets/{ticket['id']}/time-entries"
                body = {"minutes": minutes, "started_at": started, "billing": "billable", "notes": notes}
                entry = self.post(connection, path, body | ({"outcome": outcome} if outcome else {}))
                if entry is not None:
                    with self.lock:
                        self.entries[entry["id"]] = (ticket["id"], minutes)


def workers_of(master: int) -> list[int]:
    return [pid for pid, parent, _, _ in processes() if parent == master]


def kill_a_worker(master: int) -> None:
    os.kill(workers_of(master)[0], signal.SIGKILL)  # gunicorn's master starts another


def database_of(env: dict, service: str = "tickets") -> str:
    return urlsplit(env[f"PSA_{service.upper()}_DATABASE_URL"]).path.lstrip("/")


def as_id(value) -> str:
    """An id as the API writes it, from SQLite's 32 hex digits or PostgreSQL's uuid."""
    return str(uuid.UUID(str(value)))


def restart_postgresql() -> bool:
    """`pg_ctlcluster ... restart -m fast`, where this is a Debian PostgreSQL (as in CI); False elsewhere."""
    clusters = Path("/etc/postgresql")
    if shutil.which("pg_ctlcluster") is None or not clusters.is_dir():
        return False
    version = sorted(clusters.iterdir())[0].name
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return True


def rows(backend: str, env: dict, sql: str, service: str = "tickets") -> list[tuple]:
    if backend == "embedded":
        with sqlite3.connect(Path(env["PSA_DATA_DIR"]) / f"{service}.db") as db:
            return db.execute(sql).fetchall()
    with psycopg.connect(pg_admin_url(database_of(env, service))) as admin:  # the administrator: no row security
        return admin.execute(sql).fetchall()


@contextmanager
def desk_under_load(backend_env: dict, tmp_path: Path):
    """gunicorn (the deploy config) serving the tickets service of a new tenant, and its techs at
    work until the block ends: yields (the environment, the tenant, the Desk, gunicorn's pid)."""
    env, port = deploy_env(backend_env, tmp_path, PGAPPNAME=APP_NAME)
    made = cli(env, "tenant", "create", f"Crash MSP {tmp_path.name}", "--admin-email", "boss@crash.example")
    with serving_tickets(env, port, tmp_path) as server:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        client = Desk(port, made["access_token"], "").post(connection, "/api/v1/clients", {"name": "Acme Dental"})
        desk = Desk(port, made["access_token"], client["id"])
        techs = [threading.Thread(target=desk.work) for _ in range(TECHS)]
        for tech in techs:
            tech.start()
        try:
            yield env, uuid.UUID(made["tenant_id"]), desk, server.pid
        finally:
            desk.stop.set()
            for tech in techs:
                tech.join(timeout=60)


def test_killed_workers_and_dropped_connections_leave_every_acknowledged_write_whole(psa_backend, tmp_path):
    backend, backend_env = psa_backend
    with desk_under_load(backend_env, tmp_path) as (env, tenant, desk, gunicorn):
        time.sleep(1.5)
        kill_a_worker(gunicorn)
        time.sleep(1.5)
        if backend == "real":
            assert end_server_processes(database_of(env), application_name=APP_NAME) > 0
            time.sleep(1.5)
            if restart_postgresql():
                time.sleep(1.5)
        kill_a_worker(gunicorn)
        last_blow = time.monotonic()
        time.sleep(3)

    # The service came back by itself: writes were acknowledged within 10 s of the last blow.
    assert any(last_blow < at < last_blow + 10 for at in desk.acknowledged_at), desk.failures
    # A request that failed failed whole: the connection went with its worker, or a 503 problem.
    assert set(desk.failures) <= {"connection lost", "503 application/problem+json"}, desk.failures

    in_tenant = f"tenant_id = '{tenant.hex if backend == 'embedded' else tenant}'"
    tickets = {as_id(i): (n, spent) for i, n, spent in rows(
        backend, env, f"SELECT id, number, spent_minutes FROM ticket WHERE {in_tenant}")}  # fmt: skip
    entries = {as_id(i): (as_id(t), m) for i, t, m in rows(
        backend, env, f"SELECT id, ticket_id, minutes FROM timeentry WHERE {in_tenant}")}  # fmt: skip
    created = Counter(as_id(t) for (t,) in rows(
        backend, env, f"SELECT ticket_id FROM ticketchange WHERE {in_tenant} AND kind = 'created'"))  # fmt: skip
    events = Counter((kind, json.loads(body)["payload"]["id"]) for kind, body in rows(
        backend, env, f"SELECT type, body FROM outbox WHERE {in_tenant}"))  # fmt: skip

    assert desk.tickets and desk.entries
    assert {i: n for i, (n, _) in tickets.items() if i in desk.tickets} == desk.tickets  # nothing acknowledged lost
    assert desk.entries.items() <= entries.items()
    assert len({n for n, _ in tickets.values()}) == len(tickets)  # numbers never repeat
    for ticket_id, (_, spent) in tickets.items():  # acknowledged or not, each write is whole
        assert created[ticket_id] == 1 and events["ticket.created", ticket_id] == 1
        assert spent == sum(m for t, m in entries.values() if t == ticket_id)
    for entry_id in entries:
        assert events["time_entry.logged", entry_id] == 1
    assert sum(created.values()) == len(tickets)


class BusWorker:
    """`psa worker <service>` (its outbox relay and event consumer) in its own process."""

    def __init__(self, service: str, env: dict, log: Path):
        self.service, self.env, self.log, self.process = service, env | {"PYTHONUNBUFFERED": "1"}, log, None

    def start(self) -> None:
        with self.log.open("a") as out:
            self.process = subprocess.Popen([PSA, "worker", self.service], env=self.env, stdout=out, stderr=out)
        deadline = time.monotonic() + 60
        while f"{self.service}: relay and consumer running" not in self.log.read_text():  # its queues are declared
            assert self.process.poll() is None and time.monotonic() < deadline, self.log.read_text()[-2000:]
            time.sleep(0.1)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def test_a_relay_and_a_consumer_killed_mid_flow_lose_no_event_and_apply_none_twice(psa_backend, tmp_path):
    """The vault's history of configurations follows every ticket and time entry: with the tickets
    service's relay and the vault's consumer SIGKILLed twice each while techs work, every event of
    the run still reaches the vault, once."""
    backend, backend_env = psa_backend
    if backend != "real":
        pytest.skip("separate relay and consumer processes talk through RabbitMQ")
    env, _ = deploy_env(backend_env, tmp_path)
    vault, relay = (
        BusWorker("docs_vault", env, tmp_path / "vault.log"),
        BusWorker("tickets", env, tmp_path / "relay.log"),
    )
    vault.start()  # its queue first: what the relay publishes before it exists would go nowhere
    relay.start()
    try:
        with desk_under_load(backend_env, tmp_path) as (_, tenant, desk, _):
            for worker in (relay, vault, relay, vault):
                time.sleep(1.5)
                worker.kill()
                worker.start()
            time.sleep(1.5)
        in_tenant = f"tenant_id = '{tenant}'"
        history = f"{in_tenant} AND type IN ('ticket.created', 'time_entry.logged')"  # what the vault's history takes
        sent = {(kind, i) for i, kind in rows(backend, env, f"SELECT id, type FROM outbox WHERE {history}")}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            waiting = rows(backend, env, f"SELECT count(*) FROM outbox WHERE {in_tenant} AND published_at IS NULL")
            received = {(kind, i) for i, kind in rows(backend, env, "SELECT id, type FROM inbox", "docs_vault")}
            if waiting == [(0,)] and sent <= received:
                break
            time.sleep(0.5)
    finally:
        relay.stop()
        vault.stop()

    # The techs never noticed: a relay or consumer starting again takes no lock their writes wait for.
    assert not desk.failures, desk.failures
    assert waiting == [(0,)]  # the outbox drained
    assert sent <= received  # every event reached the vault (its inbox keeps each id once)
    sources = Counter(
        kind for (kind,) in rows(backend, env, f"SELECT kind FROM activitysource WHERE {in_tenant}", "docs_vault")
    )
    assert sources == {"ticket": len({i for kind, i in sent if kind == "ticket.created"}),
                       "time_entry": len({i for kind, i in sent if kind == "time_entry.logged"})}  # fmt: skip
    opened = {json.loads(body)["payload"]["id"] for (body,) in rows(
        backend, env, f"SELECT body FROM outbox WHERE {in_tenant} AND type = 'ticket.created'")}  # fmt: skip
    assert desk.tickets.keys() <= opened
