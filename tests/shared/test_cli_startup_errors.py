"""A start that cannot work (a broker or database setting, a server still away after its wait)
stops `psa` with one line naming the setting at fault, its password masked: no traceback.

No case here may start a worker for real (it would run until stopped): each fails before, and
`no_running_worker` turns a worker that got that far into a plain exit 0, which fails the test.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
import types
import uuid
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

import psa_shared.cli
from psa_shared.cli import build_cli
from psa_shared.testing import AMQP_URL, PG_ADMIN_URL, pg_admin_url, reachable

PASSWORD = "hunter2-secret"


def psa_cli(*args):
    return CliRunner().invoke(build_cli(), list(args), prog_name="psa")


def refusal(result) -> str:
    """The one line a refused start printed; any traceback (an exception other than click's exit)
    fails the test with that traceback shown."""
    if not isinstance(result.exception, SystemExit):
        pytest.fail("".join(traceback.format_exception(result.exception)) if result.exception else result.output)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if not line.startswith("WARNING ")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def free_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def needs(url: str) -> None:
    if not reachable(url):
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {urlsplit(url).hostname}:{urlsplit(url).port} is unreachable")
        pytest.skip(f"{urlsplit(url).hostname}:{urlsplit(url).port} unreachable")


@pytest.fixture(autouse=True)
def environment(monkeypatch, tmp_path, caplog):
    """Only this test's PSA_* settings; SQLite files under its own data dir."""
    for name in list(os.environ):
        if name.startswith("PSA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PSA_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PSA_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("PSA_BUS_PREFIX", f"test-{uuid.uuid4().hex[:8]}.")
    caplog.set_level(logging.WARNING)


@pytest.fixture(autouse=True)
def no_running_worker(monkeypatch):
    """A worker keeps the test's signal handlers as they are, and one that starts after all stops
    at once (as on Ctrl-C, exit 0) instead of running forever."""

    class Stopped:
        def wait(self, timeout=None):
            raise KeyboardInterrupt

    monkeypatch.setattr(psa_shared.cli, "_stop_on_signals", lambda: None)
    monkeypatch.setattr(psa_shared.cli, "threading", types.SimpleNamespace(Event=Stopped))


def test_a_worker_waits_for_a_rabbitmq_that_is_not_there_then_says_where_it_looked(monkeypatch, caplog):
    port = free_port()
    monkeypatch.setenv("PSA_BROKER_URL", f"amqp://guest:{PASSWORD}@127.0.0.1:{port}//")
    monkeypatch.setenv("PSA_BROKER_WAIT_SECONDS", "1")
    started = time.monotonic()
    line = refusal(psa_cli("worker", "tickets"))
    assert time.monotonic() - started >= 0.9  # it waited
    assert f"127.0.0.1:{port}" in line and "PSA_BROKER_URL" in line
    assert "trying again" in caplog.text  # each retry logged
    assert PASSWORD not in line + caplog.text


@pytest.mark.parametrize("command", [["events", "dead-letters"], ["events", "replay", "tickets"]])
def test_the_dead_letter_commands_wait_for_rabbitmq_as_a_worker_does(monkeypatch, caplog, command):
    """An operator looking at dead letters while RabbitMQ restarts: until 2026-11-28, a traceback."""
    port = free_port()
    monkeypatch.setenv("PSA_BROKER_URL", f"amqp://guest:{PASSWORD}@127.0.0.1:{port}//")
    monkeypatch.setenv("PSA_BROKER_WAIT_SECONDS", "1")
    line = refusal(psa_cli(*command))
    assert f"127.0.0.1:{port}" in line and "PSA_BROKER_WAIT_SECONDS=1" in line
    assert "trying again" in caplog.text and PASSWORD not in line + caplog.text


def test_a_worker_whose_rabbitmq_login_is_refused_says_so_at_once(monkeypatch):
    needs(AMQP_URL)
    parts = urlsplit(AMQP_URL)
    address = f"{parts.hostname}:{parts.port or 5672}"
    monkeypatch.setenv("PSA_BROKER_URL", f"amqp://{parts.username}:{PASSWORD}@{address}{parts.path or '/'}")
    monkeypatch.setenv("PSA_BROKER_WAIT_SECONDS", "30")
    started = time.monotonic()
    line = refusal(psa_cli("worker", "tickets"))
    assert time.monotonic() - started < 10  # not tried again for the 30 s
    assert line == f"Error: RabbitMQ refused the login for user {parts.username} at {address}: check PSA_BROKER_URL"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("garbage", "PSA_TICKETS_DATABASE_URL: unsupported scheme ''"),
        (f"mysql://psa:{PASSWORD}@db.example/psa", "PSA_TICKETS_DATABASE_URL: unsupported scheme 'mysql'"),
        (f"postgresql://psa:{PASSWORD}@127.0.0.1:notaport/psa", "PSA_TICKETS_DATABASE_URL: not a database URL"),
        (f"postgresql://psa:{PASSWORD}@127.0.0.1:5432/psa?sslmode=bogus", "PSA_TICKETS_DATABASE_URL: "),
    ],
    ids=["garbage", "mysql", "bad-port", "bad-sslmode"],
)
def test_a_database_url_that_cannot_work_is_one_line_naming_its_variable(monkeypatch, url, expected):
    monkeypatch.setenv("PSA_TICKETS_DATABASE_URL", url)
    monkeypatch.setenv("PSA_DATABASE_WAIT_SECONDS", "0")
    line = refusal(psa_cli("migrate"))
    assert line.startswith(f"Error: {expected}")
    assert PASSWORD not in line


def test_a_database_that_does_not_exist_is_one_line_naming_its_variable(monkeypatch):
    needs(PG_ADMIN_URL)
    monkeypatch.setenv("PSA_TICKETS_DATABASE_URL", pg_admin_url(f"psa_test_missing_{uuid.uuid4().hex[:8]}"))
    monkeypatch.setenv("PSA_DATABASE_WAIT_SECONDS", "0")
    line = refusal(psa_cli("migrate"))
    assert line.startswith("Error: PSA_TICKETS_DATABASE_URL: ") and "does not exist" in line


def test_the_schema_url_is_named_when_it_is_the_one_at_fault(monkeypatch):
    monkeypatch.setenv("PSA_DOCS_VAULT_SCHEMA_URL", f"postgresql://owner:{PASSWORD}@127.0.0.1:{free_port()}/vault")
    monkeypatch.setenv("PSA_DATABASE_WAIT_SECONDS", "0")
    line = refusal(psa_cli("migrate"))
    assert line.startswith("Error: PSA_DOCS_VAULT_SCHEMA_URL: ")
    assert PASSWORD not in line


def test_a_worker_whose_database_stays_away_gives_up_after_the_wait_in_one_line(monkeypatch, caplog):
    port = free_port()
    monkeypatch.setenv("PSA_TICKETS_DATABASE_URL", f"postgresql://psa:{PASSWORD}@127.0.0.1:{port}/psa_tickets")
    monkeypatch.setenv("PSA_DATABASE_WAIT_SECONDS", "1")
    monkeypatch.setenv("PSA_BROKER_URL", f"amqp://guest:guest@127.0.0.1:{free_port()}//")  # never starts
    monkeypatch.setenv("PSA_BROKER_WAIT_SECONDS", "0")
    line = refusal(psa_cli("worker", "tickets"))
    assert line.startswith("Error: PSA_TICKETS_DATABASE_URL: ") and f"port {port}" in line
    assert "PSA_DATABASE_WAIT_SECONDS" in line
    assert PASSWORD not in line + caplog.text
