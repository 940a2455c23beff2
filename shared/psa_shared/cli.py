"""The `psa` command: built-in commands, plus each service's group and plugins' commands."""

from __future__ import annotations

import logging
import signal
import threading

import click
import pluggy

from . import bus
from .config import Settings
from .plugins import plugin_manager
from .runtime import StartupError, System, reach_broker
from .services import discover_services


def bound_system(service: str | None = None) -> System:
    """Settings from the environment and the installed services (or just one), bound."""
    services = discover_services()
    if service is not None:
        services = [s for s in services if s.name == service]
        if not services:
            raise click.BadParameter(f"no installed service named {service!r}")
    return System(Settings.from_env(), services).bind()


def _bound_when_run(command: click.Command) -> None:
    """A plugin's command runs with the services that run plugins bound (the tickets service, whose
    database `psa_tickets.plugin_api` reads), bound only once it runs: listing or `--help` touches
    no database. Until 2026-11-28 it ran unbound: `plugin_api.open_ticket` failed "Cannot use
    uninitialized Proxy" unless the command bound them itself."""
    invoke = command.invoke

    def bound_invoke(ctx: click.Context):
        System(Settings.from_env(), [s for s in discover_services() if s.runs_plugins]).bind()
        return invoke(ctx)

    command.invoke = bound_invoke


class PsaGroup(click.Group):
    """The root command. Plugins' commands (`psa_register_cli_commands`) are looked up only when a
    command line names none of PSA Core's own commands, or asks for the list: `psa worker
    docs_vault` and `psa vault ...` hold the vault's master key, and a plugin that is not
    allow-listed for the vault must not run (nor be imported) in such a process."""

    plugins_loaded = False

    def load_plugins(self) -> None:
        if not self.plugins_loaded:
            self.plugins_loaded = True
            try:
                plugins = plugin_manager(Settings.from_env())
            except pluggy.PluginValidationError as error:  # a misspelt hook: one line, not a traceback
                raise click.ClickException(str(error)) from None
            before = dict(self.commands)
            plugins.hook.psa_register_cli_commands(cli=self)
            for name, command in self.commands.items():
                if before.get(name) is not command:  # added now (again, where `psa` runs twice in a process)
                    _bound_when_run(command)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and not self.plugins_loaded:
            self.load_plugins()
            command = super().get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load_plugins()
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context):
        """Any command's `StartupError` (a database or broker setting that cannot work, or a server
        still away after the wait) as one line and exit 1, not a traceback."""
        try:
            return super().invoke(ctx)
        except StartupError as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=PsaGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def cli(verbose: bool) -> None:
    """PSA Core: professional services automation for MSPs."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


def _stop_on_signals() -> None:
    """`docker stop`, systemd and Procfile runners send SIGTERM: stop as Ctrl-C does, draining what
    the consumers still hold (`System.stop_workers`). SIGINT is taken even where it came ignored: a
    shell script's `psa serve &` starts with it ignored, and Python then never raises
    KeyboardInterrupt, so Ctrl-C (or `kill -INT`) did nothing."""

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.default_int_handler)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def serve(host: str, port: int) -> None:
    """Run every installed service in one process, with their relays, consumers and periodic jobs:
    embedded mode by default, or against PostgreSQL and RabbitMQ where the environment names them
    (`make up`)."""
    from werkzeug.serving import make_server

    system = bound_system()
    base_url = f"http://{host}:{port}"
    # the port first: one in use stops here, before a demo tenant is made or a worker starts
    server = make_server(host, port, system.serving_wsgi(), threaded=True)  # werkzeug exits 1 on a port in use
    for note in system.first_run():
        click.echo(note.replace("{base_url}", base_url))
    _stop_on_signals()
    try:  # from here on: a signal right after "serving" is printed exited 1 ("Aborted!") undrained
        system.start_workers()
        click.echo(f"PSA Core serving {', '.join(s.name for s in system.services)} on {base_url} (Ctrl-C stops)")
        server.serve_forever()  # werkzeug's returns on KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    finally:
        system.stop_workers()


@cli.command()
@click.argument("service")
def worker(service: str) -> None:
    """Run one service's outbox relay, event consumers (the tickets service's: its plugins' too)
    and periodic jobs (production: one per service)."""
    if Settings.from_env().embedded:
        # its relay would publish onto a memory:// bus of its own that no other process reads, and
        # mark the events sent: until 2026-11-27 a worker started beside `psa serve` lost them
        raise click.ClickException(
            "embedded mode (no PSA_BROKER_URL): `psa serve` runs every worker itself; "
            "set PSA_BROKER_URL to a RabbitMQ to run workers in processes of their own"
        )
    system = bound_system(service)
    _stop_on_signals()
    try:  # as `serve`: a signal right after start-up is a clean stop too
        system.start_workers()
        click.echo(f"{service}: relay and consumer running (Ctrl-C stops)")
        threading.Event().wait()
    except KeyboardInterrupt:
        system.stop_workers()


@cli.group("events")
def events_group() -> None:
    """Events that failed for good: each consumer's dead letters, and applying them again."""


def _consumers() -> dict[str, bus.Consumer]:
    """Every consumer the installed services and plugins have, by name (`tickets`,
    `plugin.<name>`, ...), as their workers run them; in embedded mode bound to their databases,
    which keep their dead letters."""
    system = System(Settings.from_env(), discover_services())
    if system.settings.embedded:
        system.bind()
    else:  # RabbitMQ holds them: wait for it as a worker does, and say in one line if it is not there
        with bus.connect(system.settings) as connection:  # (until 2026-11-28: a traceback)
            reach_broker(connection, system.settings)
    return {consumer.name: consumer for consumer in system.consumers()}


@events_group.command("dead-letters")
@click.option("--list", "listed", is_flag=True, help="Also each one: when, type, event id, tenant and why.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="With --list: per consumer.")
def dead_letters(listed: bool, limit: int) -> None:
    """How many events each consumer failed on for good: its dead-letter queue holds (RabbitMQ),
    or its service's database stores (embedded mode); with --list, which ones, oldest first."""
    for name, consumer in sorted(_consumers().items()):
        click.echo(f"{name}: {bus.dead_letters(consumer)}")
        for line in bus.dead_letter_lines(consumer, limit) if listed else ():
            click.echo(f"  {line}")


@events_group.command()
@click.argument("consumer")
@click.option("--limit", type=click.IntRange(min=1), help="Replay at most this many (oldest first).")
def replay(consumer: str, limit: int | None) -> None:
    """Replay CONSUMER's dead letters once the cause is fixed (a plugin's credentials, say). On
    RabbitMQ they go back on its queue and its worker applies them; in embedded mode this command
    applies them itself, as the consumer does, and one failing again stays stored. Either way the
    consumer's inbox skips any it had applied, and a plugin's dead letter whose tenant has the
    plugin switched off is kept (the worker puts it back into the dead letters on RabbitMQ)."""
    consumers = _consumers()
    if consumer not in consumers:
        raise click.BadParameter(f"no consumer named {consumer!r}; there are: {', '.join(sorted(consumers))}")
    if not consumers[consumer].settings.embedded:
        moved = bus.replay_dead_letters(consumers[consumer], limit)
        click.echo(f"{consumer}: {moved} dead letters put back on its queue")
        return
    done = bus.replay_stored(consumers[consumer], limit)
    already = f" ({done.already} had been applied already or are not for it)" if done.already else ""
    click.echo(f"{consumer}: {done.applied} dead letters applied{already}")
    for skipped in done.skipped:  # not a failure: the tenant chose it, and may switch it back on
        click.echo(f"{consumer}: {skipped} (skipped: still stored, replayed once switched back on)")
    for failure in done.failed:
        click.echo(f"{consumer}: {failure} (failed again: still stored)")
    if done.failed:
        raise click.ClickException(f"{len(done.failed)} dead letters of {consumer} failed again and stay stored")


@cli.command("migrate")
def migrate() -> None:
    """Create every installed service's tables that do not exist yet."""
    for service in bound_system().services:
        click.echo(f"{service.name}: {len(service.db.models)} tables ready")


def build_cli() -> click.Group:
    for service in discover_services():
        for command in service.commands:
            cli.add_command(command)
    cli.plugins_loaded = False  # plugins' commands: on demand (PsaGroup)
    return cli


def main() -> None:
    build_cli()(prog_name="psa")
