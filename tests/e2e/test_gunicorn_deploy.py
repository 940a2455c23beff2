"""The production entry as an operator starts it: gunicorn with `deploy/gunicorn.conf.py`."""

import json
import os
import runpy
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from ..bench.load import wait_ready
from .test_embedded_run import cli, free_port

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def settings(monkeypatch, **env) -> dict:
    for key in [k for k in os.environ if k.startswith("PSA_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return runpy.run_path(str(CONFIG))


def test_threads_serve_postgresql_and_processes_serve_sqlite(monkeypatch):
    postgres = "postgresql://psa@db/psa_tickets"
    assert settings(monkeypatch)["threads"] == 1  # the embedded default: SQLite under the data dir
    assert settings(monkeypatch, PSA_TICKETS_DATABASE_URL="sqlite:///var/tickets.db")["threads"] == 1
    assert settings(monkeypatch, PSA_TICKETS_DATABASE_URL=postgres)["threads"] == 8
    assert settings(monkeypatch, PSA_TICKETS_DATABASE_URL=postgres, PSA_THREADS="4")["threads"] == 4
    assert settings(monkeypatch, PSA_WORKERS="5")["workers"] == 5


def post(url: str, body: dict, token: str) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    request = Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except HTTPError as error:
        return error.code, json.loads(error.read())


def deploy_env(backend_env: dict, tmp_path: Path, **extra) -> tuple[dict, int]:
    """The environment an operator gives gunicorn (no stray `PSA_*` of this shell), and its port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSA_")} | backend_env | extra
    port = free_port()
    return env | {"PSA_DATA_DIR": str(tmp_path / "var"), "PSA_BIND": f"127.0.0.1:{port}"}, port


@contextmanager
def serving_tickets(env: dict, port: int, tmp_path: Path):
    """`gunicorn -c deploy/gunicorn.conf.py` serving the tickets service until the block ends."""
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [GUNICORN, "-c", str(CONFIG), "psa_shared.wsgi:create_app('tickets')"],
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_ready(port, server, log_path, timeout=60)
            yield server
        finally:
            server.terminate()
            server.wait(timeout=20)


def test_an_msp_serves_the_tickets_service_with_the_deploy_config(psa_backend, tmp_path, monkeypatch):
    """Embedded: SQLite, one thread per worker. Real: PostgreSQL as the app role, 8 threads."""
    backend, backend_env = psa_backend
    env, port = deploy_env(backend_env, tmp_path)
    shape = settings(monkeypatch, **{k: v for k, v in env.items() if k.startswith("PSA_")})
    assert shape["threads"] == (8 if backend == "real" else 1)
    made = cli(env, "tenant", "create", f"Acme MSP {tmp_path.name}", "--admin-email", "boss@acme.example")
    with serving_tickets(env, port, tmp_path):
        base = f"http://127.0.0.1:{port}"
        token = made["access_token"]
        status, client = post(f"{base}/api/v1/clients", {"name": "Acme Dental"}, token)
        assert status == 201, client
        numbers = []
        for summary in ("Printer jams", "Mailbox full", "VPN drops"):
            status, ticket = post(f"{base}/api/v1/tickets", {"client_id": client["id"], "summary": summary}, token)
            assert status == 201, ticket
            numbers.append(ticket["number"])
        assert numbers == sorted(numbers) and len(set(numbers)) == 3
        status, problem = post(f"{base}/api/v1/tickets", {"client_id": client["id"]}, token)
        assert status == 422 and "summary" in json.dumps(problem)
