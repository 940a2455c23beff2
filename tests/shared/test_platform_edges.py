"""Edges of the platform as an MSP's operator and a plugin author meet them: the `psa` command
line, plugin endpoints and the deploy files."""

import json
import re
from pathlib import Path

import click
import flask
import pytest
import yaml
from click.testing import CliRunner

from psa_shared.cli import build_cli
from psa_shared.plugins import hookimpl, register_plugin, unregister_plugin
from psa_shared.tenancy import tenant_scope

ROOT = Path(__file__).resolve().parents[2]


def psa_cli(*args):
    return CliRunner().invoke(build_cli(), list(args), prog_name="psa")


def tenant_names(psa) -> list[str]:
    from psa_tickets.directory.models import Tenant

    return [t.name for t in Tenant.select()]


def test_a_tenant_with_a_time_zone_that_does_not_exist_is_refused(psa):
    made = psa_cli("tenant", "create", "Mars MSP", "--admin-email", "boss@mars.example", "--time-zone", "Mars/Base")
    assert made.exit_code == 2, made.output
    assert "time zone" in made.output
    assert "Mars MSP" not in tenant_names(psa)


def test_a_tenant_whose_admin_email_is_not_an_email_gets_a_clear_error_and_nothing_written(psa):
    made = psa_cli("tenant", "create", "Typo MSP", "--admin-email", "boss at typo.example")
    assert made.exit_code == 2, made.output
    assert "--admin-email" in made.output and "Traceback" not in made.output
    assert "Typo MSP" not in tenant_names(psa)


def test_a_created_tenant_works_through_the_api(psa):
    made = psa_cli(
        "tenant", "create", "Acme MSP", "--admin-email", "Boss@Acme.example", "--time-zone", "Europe/Amsterdam"
    )
    assert made.exit_code == 0, made.output
    token = json.loads(made.output)["access_token"]
    assert psa.http.as_token(token).post("/api/v1/clients", json={"name": "Acme Dental"}).status_code == 201


def test_the_admin_password_follows_the_apis_policy(psa):
    made = psa_cli("tenant", "create", "Weak MSP", "--admin-email", "boss@weak.example", "--admin-password", "abc")
    assert made.exit_code == 2, made.output
    assert "--admin-password" in made.output
    assert "Weak MSP" not in tenant_names(psa)


class DocsSyncPlugin:
    """A partner's IT Glue import: its blueprint happens to be called `api-docs-sync`."""

    @hookimpl
    def psa_register_blueprints(self):
        blueprint = flask.Blueprint("api-docs-sync", __name__)

        @blueprint.get("/clients")
        def clients():
            from psa_tickets.directory.models import Client

            return {"names": [c.name for c in Client.select()]}

        return [("docs-sync", blueprint)]


@pytest.fixture
def docs_sync():
    register_plugin(DocsSyncPlugin(), "docs-sync")
    yield
    unregister_plugin("docs-sync")


def test_a_plugin_view_needs_a_token_whatever_its_blueprint_is_called(docs_sync, psa, tenant):
    tenant.client("Acme Dental")
    anonymous = psa.http.get("/api/v1/plugins/docs-sync/clients")
    assert anonymous.status_code == 401
    assert tenant.api.get("/api/v1/plugins/docs-sync/clients").json == {"names": ["Acme Dental"]}


def compose() -> dict:
    return yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())


def test_every_secret_file_the_compose_stack_names_is_mounted_into_the_container_that_reads_it():
    stack = compose()
    declared = set(stack.get("secrets") or {})
    for name, service in stack["services"].items():
        named = {
            m
            for value in (service.get("environment") or {}).values()
            for m in re.findall(r"/run/secrets/(\w+)", str(value))
        }
        mounted = {s if isinstance(s, str) else s["source"] for s in service.get("secrets") or []}
        assert named <= mounted, f"{name} reads {sorted(named - mounted)} from /run/secrets but is not given them"
        assert mounted <= declared, f"{name} mounts undeclared secrets {sorted(mounted - declared)}"


def test_only_the_tickets_service_holds_the_token_signing_key_and_only_the_vault_the_master_key():
    """README: the signing key is for the tickets service (and the CLI); the master key for the vault."""
    for name, service in compose()["services"].items():
        mounted = {s if isinstance(s, str) else s["source"] for s in service.get("secrets") or []}
        env = service.get("environment") or {}
        if name.startswith("vault-"):
            assert "jwt_private" not in mounted and "PSA_JWT_PRIVATE_KEY_FILE" not in env, name
        if name.startswith("tickets-"):
            assert "vault_master" not in mounted and "PSA_VAULT_MASTER_KEY_FILE" not in env, name


def test_the_vaults_attachments_outlive_its_containers_on_a_volume_both_mount():
    """The image sets PSA_DATA_DIR=/data and runs as nobody: the vault's attachments need a volume
    there, the same one for its web process and its worker, and the image must let nobody write it."""
    stack = compose()
    for name in ("vault-web", "vault-worker"):
        assert "vault-data:/data" in stack["services"][name].get("volumes", []), name
    assert "vault-data" in stack["volumes"]
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "chown nobody /data" in dockerfile.split("USER nobody")[0]


def test_a_token_is_issued_only_for_an_active_member_of_a_tenant_that_exists(psa, tenant):
    leaver = tenant.member(email="Leaver@Acme.example")
    assert tenant.api.post(f"/api/v1/members/{leaver.id}/deactivate").status_code == 200
    refused = psa_cli("token", "issue", "--tenant", tenant.id, "--email", "leaver@acme.example")
    assert refused.exit_code == 1 and "no active member" in refused.output
    unknown = psa_cli("token", "issue", "--tenant", "01a21a74-0000-7000-8000-000000000000", "--email", "x@acme.example")
    assert unknown.exit_code == 1 and "no such tenant" in unknown.output
    tech = tenant.member(email="tech@acme.example")
    issued = psa_cli("token", "issue", "--tenant", tenant.id, "--email", "TECH@acme.example", "--ttl", "60")
    assert issued.exit_code == 0 and json.loads(issued.output)["member_id"] == tech.id


@pytest.mark.parametrize("ttl", ["0", "-60"])
def test_a_token_lifetime_that_is_not_positive_is_refused_not_printed_as_a_dead_or_default_token(psa, tenant, ttl):
    from psa_tickets.directory.models import Member

    with tenant_scope(tenant.id):
        admin_email = Member.get_by_id(tenant.admin_id).email
    issued = psa_cli("token", "issue", "--tenant", tenant.id, "--email", admin_email, "--ttl", ttl)
    assert issued.exit_code == 2, issued.output
    assert "--ttl" in issued.output


class BrokenSlackPlugin:
    """A partner's Slack notifier whose webhook is down: it raises on every event."""

    @hookimpl
    def psa_event_types(self):
        return ["client.created"]

    @hookimpl
    def psa_on_event(self, event, payload):
        raise ConnectionError("slack.example is down")


class RmmSyncPlugin:
    @hookimpl
    def psa_event_types(self):
        return ["client.created"]

    def __init__(self):
        self.seen = []

    @hookimpl
    def psa_on_event(self, event, payload):
        self.seen.append(payload["name"])


@pytest.fixture
def rmm_and_broken_slack():
    rmm = RmmSyncPlugin()
    register_plugin(rmm, "rmm-sync")
    register_plugin(BrokenSlackPlugin(), "slack")  # pluggy calls the later-registered first
    yield rmm
    unregister_plugin("rmm-sync")
    unregister_plugin("slack")


def test_one_failing_plugin_does_not_keep_an_event_from_another(rmm_and_broken_slack, psa, tenant):
    tenant.client("Acme Dental")
    psa.settle()
    assert rmm_and_broken_slack.seen, "the RMM plugin never heard of the new client"


class ReportingPlugin:
    """A partner's reporting add-on, installed but not allow-listed for the vault: it must never
    run inside a process that holds the vault's master key."""

    def __init__(self):
        self.ran_in = []

    @hookimpl
    def psa_register_cli_commands(self, cli):
        self.ran_in.append("cli")

        @cli.command("report-export")
        def report_export():
            click.echo("exported")


@pytest.fixture
def reporting():
    plugin = ReportingPlugin()
    register_plugin(plugin, "reporting")
    yield plugin
    unregister_plugin("reporting")


def test_vault_commands_run_without_plugins_that_are_not_allow_listed(reporting, psa):
    verified = psa_cli("vault", "verify-audit")
    assert verified.exit_code == 0, verified.output
    assert reporting.ran_in == []


def test_a_plugins_own_command_still_runs_and_is_listed(reporting, psa):
    assert psa_cli("report-export").output == "exported\n"
    assert "report-export" in psa_cli("--help").output


def test_a_tenant_needs_a_name(psa):
    made = psa_cli("tenant", "create", "  ", "--admin-email", "boss@nameless.example")
    assert made.exit_code == 2 and "NAME" in made.output, made.output
    assert tenant_names(psa) == []


def test_a_worker_in_embedded_mode_is_refused_before_it_can_lose_an_event(monkeypatch, tmp_path):
    """Beside `psa serve`, its relay published onto a memory:// bus no other process reads and
    marked the events sent: the vault never heard of 6 of 400 new clients (until 2026-11-27)."""
    monkeypatch.delenv("PSA_BROKER_URL", raising=False)
    monkeypatch.setenv("PSA_DATA_DIR", str(tmp_path))
    refused = psa_cli("worker", "tickets")
    assert refused.exit_code == 1 and "`psa serve` runs every worker itself" in refused.output, refused.output
    assert list(tmp_path.iterdir()) == []  # nothing bound, nothing made


def test_a_port_out_of_range_is_a_usage_error_not_another_port(monkeypatch, tmp_path):
    """`--port 99999` served on 34463 (99999 - 65536) while printing :99999 (until 2026-11-27)."""
    monkeypatch.setenv("PSA_DATA_DIR", str(tmp_path))
    for port in ("99999", "0", "-1"):
        refused = psa_cli("serve", "--port", port)
        assert refused.exit_code == 2 and "--port" in refused.output, (port, refused.output)
    assert list(tmp_path.iterdir()) == []
